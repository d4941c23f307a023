/**
 * Adopting a descriptor by its kind: a connected stream socket becomes a
 * `TcpStream` or `UnixStream`, a listening one a `TcpListener` or
 * `UnixListener`, a pipe, FIFO, file or device a `Stream`. Sockets run over
 * `node:net` (the one runtime API that takes a descriptor); files and
 * devices over the C library.
 *
 * @module
 */

import { NetError } from "../common/errors.ts";
import { Stream, type StreamTransport } from "../common/stream.ts";
import type { Native } from "../common/_native/libc.ts";
import { identify } from "../common/_native/fd.ts";
import { probe, setCloseOnExec } from "../common/_native/descriptor.ts";
import { AdoptedAcceptSource, adoptStream, FileTransport } from "../common/_node_transport.ts";
import { adoptTcpListener, adoptTcpStream } from "../tcp/_adopt.ts";
import { UnixStream } from "../unix/stream.ts";
import { UnixListener } from "../unix/listen.ts";
import { registerDescriptor } from "./_handoff.ts";
import type { Adopted } from "./fdopen.ts";
import { adoptUdp, adoptUnixDatagram } from "../udp/_adopt.ts";

/**
 * A stream over a pipe, file or device descriptor: a `Stream` whose
 * `fileno()` is that descriptor (it is no socket, so socket options stay
 * `not_supported`).
 */
class DescriptorStream extends Stream {
  readonly #fd: number;

  constructor(transport: StreamTransport, fd: number) {
    super(transport, { localAddr: null, remoteAddr: null, label: `fd ${fd}` });
    this.#fd = fd;
  }

  override fileno(): number {
    if (this.closed) {
      throw new NetError("closed", "the stream is closed", {
        op: "fileno",
        address: `fd ${this.#fd}`,
      });
    }
    return this.#fd;
  }
}

function adoptUnixListener(n: Native, fd: number, addr: Deno.UnixAddr): UnixListener {
  const source = new AdoptedAcceptSource(n, fd, addr);
  identify(n, source, fd);
  return new UnixListener(
    {
      resource: source as unknown as Deno.UnixListener,
      path: addr.path,
      // The path is not ours: it stays, whatever happens to this object.
      release: () => false,
      keepable: true,
      keep() {},
    } as ConstructorParameters<typeof UnixListener>[0],
  );
}

/**
 * Adopts `fd`, or throws without touching it (`not_supported` for a kind
 * netkit has no object for, `not_found` when it is not open).
 *
 * @param n The opened library.
 * @param fd The descriptor (owned by the result from now on).
 * @param op The operation errors name.
 */
export function adopt(n: Native, fd: number, op: string): Adopted {
  const address = `fd ${fd}`;
  const found = probe(n, fd);
  const unsupported = (why: string) => new NetError("not_supported", why, { op, address });
  switch (found.what) {
    case "closed":
      throw new NetError("not_found", `descriptor ${fd} is not open`, { op, address });
    case "dir":
      throw unsupported(`descriptor ${fd} is a directory, which has no byte stream`);
    case "other":
      throw unsupported(
        `descriptor ${fd} is neither a socket, a pipe, a file nor a device (e.g. an eventfd)`,
      );
    case "fifo": {
      setCloseOnExec(n, fd);
      const transport = adoptStream(fd, {
        localAddr: null,
        remoteAddr: null,
        readable: found.readable,
        writable: found.writable,
        label: address,
      });
      const stream = new DescriptorStream(transport, fd);
      registerDescriptor(stream, fd);
      return stream;
    }
    case "file":
    case "chr": {
      setCloseOnExec(n, fd);
      const transport = new FileTransport(n, fd, {
        device: found.what === "chr",
        readable: found.readable,
        writable: found.writable,
      });
      const stream = new DescriptorStream(transport, fd);
      registerDescriptor(stream, fd);
      return stream;
    }
  }
  if (found.domain === "other") {
    throw unsupported(`descriptor ${fd} is a socket of a family netkit has no objects for`);
  }
  if (found.type === "dgram") {
    setCloseOnExec(n, fd);
    if (found.domain === "unix") {
      const local = (found.local as Deno.UnixAddr | null)?.path ?? "";
      const peer = (found.peer as Deno.UnixAddr | null)?.path ?? null;
      return adoptUnixDatagram(n, fd, local, peer, op);
    }
    return adoptUdp(n, fd, found.local as Deno.NetAddr, op);
  }
  if (found.type !== "stream") {
    throw unsupported(
      `descriptor ${fd} is a socket of a type netkit has no objects for (not stream or datagram)`,
    );
  }
  const unix = found.domain === "unix";
  if (found.listening) {
    setCloseOnExec(n, fd);
    return unix
      ? adoptUnixListener(n, fd, found.local as Deno.UnixAddr)
      : adoptTcpListener(n, fd, found.local as Deno.NetAddr);
  }
  if (found.peer === null) {
    throw unsupported(
      `descriptor ${fd} is a stream socket that is neither connected nor listening ` +
        "(use tcp.socket() to bind and connect one)",
    );
  }
  setCloseOnExec(n, fd);
  if (!unix) return adoptTcpStream(fd, found.local!, found.peer);
  const transport = adoptStream(fd, { localAddr: found.local, remoteAddr: found.peer });
  return new UnixStream(transport as unknown as Deno.UnixConn);
}
