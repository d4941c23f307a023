/**
 * Datagram objects over descriptors netkit did not get from Deno (adopted
 * or inherited): Deno's `node:dgram` cannot take a descriptor ("Unsupported
 * fd type"), so the native layer's datagram engine reads and writes them. A
 * UDP socket becomes a `UdpSocket` (over a shim with the calls it makes on a
 * `Deno.DatagramConn`), a unix datagram socket a `UnixDatagramClient`.
 *
 * @module
 */

import { NetError } from "../common/errors.ts";
import type { Native } from "../common/_native/libc.ts";
import { identify } from "../common/_native/fd.ts";
import { DatagramEngine } from "../common/_native/datagram.ts";
import { encodeSockaddr, setNonBlocking } from "../common/_native/descriptor.ts";
import { DEFAULT_BUFFER_SIZE } from "./_open.ts";
import { UdpSocket } from "./socket.ts";
import { UnixDatagramClient } from "./unix_client.ts";

/**
 * A `UdpSocket` over a UDP descriptor, which it owns from now on.
 *
 * @param n The opened library.
 * @param fd The socket.
 * @param local Its address (getsockname).
 * @param op The operation errors name.
 */
export function adoptUdp(n: Native, fd: number, local: Deno.NetAddr, op: string): UdpSocket {
  const label = `fd ${fd}`;
  setNonBlocking(n, fd, op, label);
  const v6 = local.hostname.includes(":");
  const engine = new DatagramEngine(fd, v6 ? "inet6" : "inet", op, label);
  const noMulticast = () =>
    Promise.reject(
      new NetError(
        "not_supported",
        "multicast membership on an adopted UDP socket is not available (use " +
          "setOption for the multicast options, or a socket made with udp.bind)",
        { op: "joinMulticast", address: label },
      ),
    );
  const conn = {
    addr: local,
    receive: (buffer?: Uint8Array) => engine.receive(buffer ?? new Uint8Array(DEFAULT_BUFFER_SIZE)),
    send: (data: Uint8Array, to: Deno.NetAddr) =>
      engine.send(data, encodeSockaddr(n, to.hostname, to.port, v6), "sendTo"),
    close: () => void engine.close(),
    joinMulticastV4: noMulticast,
    joinMulticastV6: noMulticast,
  };
  identify(n, conn, fd);
  return new UdpSocket(conn as unknown as Deno.DatagramConn, { bufferSize: DEFAULT_BUFFER_SIZE });
}

/**
 * A `UnixDatagramClient` over a unix datagram descriptor, which it owns
 * from now on (its path, if any, is left where it is at close).
 *
 * @param n The opened library.
 * @param fd The socket.
 * @param local Its name (getsockname; `""` when unbound).
 * @param peer Its connected peer's name, or `null`.
 * @param op The operation errors name.
 */
export function adoptUnixDatagram(
  n: Native,
  fd: number,
  local: string,
  peer: string | null,
  op: string,
): UnixDatagramClient {
  const label = `fd ${fd}`;
  setNonBlocking(n, fd, op, label);
  const engine = new DatagramEngine(fd, "unix", op, local === "" ? label : local);
  const bound = local === "" ? null : {
    resource: engine,
    path: local,
    release: () => false, // the path is not ours: it stays
    keepable: true,
    keep() {},
  };
  return new UnixDatagramClient(
    engine,
    bound as ConstructorParameters<typeof UnixDatagramClient>[1],
    peer === "" ? null : peer,
    DEFAULT_BUFFER_SIZE,
  );
}
