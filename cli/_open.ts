/**
 * Opening `nk` addresses through netkit: each becomes an {@linkcode End}
 * (one side of a relay) or, for listening addresses, an
 * {@linkcode Acceptor} that hands out ends.
 *
 * @module
 */

import { formatAddress, NetError, type Stream } from "../mod.ts";
import * as tcp from "../tcp/mod.ts";
import * as udp from "../udp/mod.ts";
import * as unix from "../unix/mod.ts";
import { fdopen, type Process, spawn } from "../process/mod.ts";
import type { Address, AddressOptions } from "./_address.ts";
import { UsageError } from "./_errors.ts";

/** The most bytes one read hands to the relay (the stream's whole buffer at most). */
const CHUNK = 256 * 1024;
/** The largest IPv4 UDP payload. */
const MAX_DATAGRAM = 65507;
/** How long a child may take to exit after its input ended, before it is sent SIGTERM. */
const CHILD_GRACE = 2000;

/** What one side of a relay is, which decides when a relay is over. */
export type EndKind = "stream" | "stdio" | "exec" | "datagram";

/** One side of a relay: bytes in, bytes out, half-close, close. */
export interface End {
  /** How `-v` names the peer, e.g. `tcp:127.0.0.1:50312`. */
  readonly label: string;
  /** What it is. */
  readonly kind: EndKind;
  /**
   * True when the relay is over once nothing more will be written to this
   * end (stdio on a terminal: its input may never end, like nc's).
   */
  readonly endsWithOutput: boolean;
  /** True when the relay is over once this end's output ends (a child that is done). */
  readonly endsWithInput: boolean;
  /**
   * The next bytes, or `null` at end of input. A stream end reads into two
   * buffers in turn, so a chunk stays valid until the read after the next
   * one starts: write it out before asking twice more (the relay does).
   */
  read(): Promise<Uint8Array | null>;
  /** Writes all of `chunk`. */
  write(chunk: Uint8Array): Promise<void>;
  /** Sends end of stream (FIN, a child's stdin closed); a no-op for datagrams and stdout. */
  closeWrite(): Promise<void>;
  /** Releases everything; `abrupt` (interrupt, error): do not wait for a child. */
  close(abrupt: boolean): Promise<void>;
  /** After close: what became of it (a child's exit status), for `-v`. */
  note?: string;
  /** The stream whose socket itself can go to an `exec:` child (tcp and unix, not TLS). */
  readonly socket?: tcp.TcpStream | unix.UnixStream;
}

/** A listening address: hands out one end per peer. */
export interface Acceptor {
  /** How messages name it, with the port the kernel chose, e.g. `tcp-listen:127.0.0.1:40123`. */
  readonly label: string;
  /** True when it can serve only one peer (udp-listen). */
  readonly single: boolean;
  /** The next peer. */
  accept(signal: AbortSignal): Promise<End>;
  /** Stops listening (a unix path it created is removed). */
  close(): Promise<void>;
}

/** What opening needs from the command line. */
export interface OpenContext {
  /** Interrupts waiting (Ctrl-C). */
  signal: AbortSignal;
  /** `--timeout`: the default connect timeout in milliseconds. */
  timeout?: number;
}

/** A socket path as messages show it: abstract names with `@`. */
function showPath(path: string): string {
  return path[0] === "\0" ? "@" + path.slice(1) : path;
}

function netLabel(prefix: string, addr: Deno.Addr | null): string {
  if (addr === null) return prefix;
  if (addr.transport === "tcp" || addr.transport === "udp") {
    return `${prefix}:${formatAddress({ hostname: addr.hostname, port: addr.port })}`;
  }
  return `${prefix}:${showPath((addr as Deno.UnixAddr).path ?? "")}`;
}

/** An end over a netkit {@linkcode Stream} (tcp, unix). */
export function streamEnd(stream: Stream, label: string): End {
  const socket = stream instanceof tcp.TcpStream || stream instanceof unix.UnixStream
    ? stream
    : undefined;
  // Two buffers in turn, as socat's one buffer but with a read in flight
  // while the last chunk is written: no fresh memory per chunk.
  const buffers = [new Uint8Array(CHUNK), new Uint8Array(CHUNK)];
  let turn = 0;
  return {
    label,
    kind: "stream",
    socket,
    endsWithOutput: false,
    endsWithInput: false,
    read: async () => {
      const buffer = buffers[turn];
      turn ^= 1;
      const n = await stream.readInto(buffer);
      return n === null ? null : buffer.subarray(0, n);
    },
    write: (chunk) => stream.writeAll(chunk),
    closeWrite: () => stream.shutdown("w"),
    close: () => {
      stream.close();
      return Promise.resolve();
    },
  };
}

/**
 * This process's stdin and stdout, shared by every relay of one run (so
 * with `--keep` a read a finished relay left waiting goes to the next).
 */
class Stdio {
  static #shared: Stdio | undefined;
  readonly input: Stream = fdopen(0);
  readonly output: Stream = fdopen(1);
  readonly terminal: boolean = Deno.stdin.isTerminal();
  #pending: Promise<Uint8Array | null> | undefined;

  static get(): Stdio {
    return Stdio.#shared ??= new Stdio();
  }

  /** The next chunk of stdin: the read already waiting, or a new one. */
  next(): Promise<Uint8Array | null> {
    return this.#pending ??= this.input.read(CHUNK);
  }

  /** Marks the chunk of `read` as taken. */
  consume(read: Promise<Uint8Array | null>): void {
    if (this.#pending === read) this.#pending = undefined;
  }
}

/** An end over stdin and stdout. */
export function stdioEnd(): End {
  const stdio = Stdio.get();
  let closed = false;
  return {
    label: "stdio",
    kind: "stdio",
    endsWithOutput: stdio.terminal,
    endsWithInput: false,
    read: async () => {
      const read = stdio.next();
      const chunk = await read;
      // A finished relay leaves the chunk to the next one.
      if (closed) return null;
      stdio.consume(read);
      return chunk;
    },
    write: (chunk) => stdio.output.writeAll(chunk),
    closeWrite: () => Promise.resolve(),
    close: () => {
      closed = true;
      return Promise.resolve();
    },
  };
}

function describeStatus(child: Process): string | undefined {
  const status = child.tryWait();
  if (status === undefined) return undefined;
  return "exited" in status ? `exit ${status.exited}` : `killed by ${status.signaled}`;
}

/** A child whose stdin and stdout are the other side; its stderr is ours. */
async function execEnd(argv: string[], signal: AbortSignal): Promise<End> {
  if (signal.aborted) throw signal.reason;
  const child = await spawn(argv, { files: { 0: "piped", 1: "piped", 2: "inherit" } });
  const end: End = {
    label: `exec:${argv.join(" ")}[${child.pid}]`,
    kind: "exec",
    endsWithOutput: false,
    endsWithInput: true,
    read: () => child.stdout.read(CHUNK),
    write: (chunk) => child.stdin.writeAll(chunk),
    closeWrite: () => child.stdin.shutdown("w"),
    close: async (abrupt) => {
      child.stdin.close();
      if (!abrupt && child.tryWait() === undefined) {
        await child.wait({ timeout: CHILD_GRACE }).catch(() => {});
      }
      child.stdout.close();
      if (child.tryWait() === undefined) child.kill("SIGTERM");
      await child.wait();
      end.note = describeStatus(child);
    },
  };
  return end;
}

/** An `exec:` child that has the peer's socket itself at fds 0 and 1. */
export interface HandedOver {
  /** How `-v` names it, e.g. `exec:cat[4242]`. */
  readonly label: string;
  /** Resolves once the child exited, with its status for `-v` (`exit 0`). */
  wait(): Promise<string>;
}

/**
 * Starts `argv` with `socket` itself at its fds 0 and 1 (its stderr is
 * ours), as inetd does; our object closes, the child's socket stays open.
 * `signal` sends the child SIGTERM.
 *
 * @param argv The program and its arguments.
 * @param socket The peer's stream (nothing read from it yet).
 * @param signal Ctrl-C.
 * @returns The child, or `undefined` when the library cannot hand this
 *   socket over and left the stream open (the caller pumps it instead).
 * @throws {NetError} as `spawn` reports it (a missing program: the socket
 *   is closed then).
 */
export async function execWithSocket(
  argv: string[],
  socket: tcp.TcpStream | unix.UnixStream,
  signal: AbortSignal,
): Promise<HandedOver | undefined> {
  if (signal.aborted) throw signal.reason;
  let child: Process;
  try {
    child = await spawn(argv, { files: { 0: socket, 1: socket, 2: "inherit" }, signal });
  } catch (error) {
    // E.g. a descriptor netkit cannot tell apart: nothing was touched, so pump.
    if (error instanceof NetError && error.code === "not_supported" && !socket.closed) {
      return undefined;
    }
    throw error;
  }
  return {
    label: `exec:${argv.join(" ")}[${child.pid}]`,
    wait: async () => {
      await child.wait();
      await child.close();
      return describeStatus(child) ?? "";
    },
  };
}

/** Sends `chunk` as datagrams of at most {@linkcode MAX_DATAGRAM} bytes. */
async function sendAll(socket: udp.UdpSocket, chunk: Uint8Array): Promise<void> {
  for (let at = 0; at < chunk.length; at += MAX_DATAGRAM) {
    await socket.send(chunk.subarray(at, at + MAX_DATAGRAM));
  }
}

/** An end over a connected UDP socket; `first` is a datagram already received. */
function datagramEnd(socket: udp.UdpSocket, first?: Uint8Array): End {
  let early = first;
  return {
    label: netLabel("udp", socket.remoteAddr),
    kind: "datagram",
    endsWithOutput: false,
    endsWithInput: false,
    read: async () => {
      if (early !== undefined) {
        const chunk = early;
        early = undefined;
        return chunk;
      }
      return (await socket.receive()).data;
    },
    write: (chunk) => sendAll(socket, chunk),
    closeWrite: () => Promise.resolve(),
    close: async () => {
      await socket[Symbol.asyncDispose]();
    },
  };
}

/** The PEM text of a file option (caFile, cert, key), read when the address opens. */
async function pem(address: Address, name: string): Promise<string | undefined> {
  const file = address.options[name] as string | undefined;
  if (file === undefined) return undefined;
  try {
    return await Deno.readTextFile(file);
  } catch (error) {
    const code = error instanceof Deno.errors.NotFound
      ? "not_found"
      : error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied
      ? "access_denied"
      : "invalid_argument";
    throw new NetError(code, `${name}=${file}: ${(error as Error).message}`, {
      op: "tls",
      field: name,
      cause: error,
    });
  }
}

/** The TLS material of a tls:/tls-listen: address, by the library's option names. */
async function tlsOptions(address: Address): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = pick(address.options, ["serverName", "noDelay"]);
  const ca = await pem(address, "caFile");
  if (ca !== undefined) out.caCerts = [ca];
  const cert = await pem(address, "cert");
  if (cert !== undefined) out.cert = cert;
  const key = await pem(address, "key");
  if (key !== undefined) out.key = key;
  if (address.options.alpn !== undefined) out.alpnProtocols = address.options.alpn;
  return out;
}

/** The options of `address` that the library takes as they are. */
function pick(options: AddressOptions, names: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of names) if (name in options) out[name] = options[name];
  return out;
}

/**
 * Opens an address that is not listening (or accepts one peer on a
 * listening one).
 *
 * @param address The parsed address.
 * @param context Signal and default timeout.
 * @returns The end.
 * @throws {NetError} as the library reports it.
 */
export async function openEnd(address: Address, context: OpenContext): Promise<End> {
  const { signal } = context;
  const timeout = (address.options.timeout as number | undefined) ?? context.timeout;
  const deadline = { signal, ...(timeout === undefined ? {} : { timeout }) };
  switch (address.kind) {
    case "stdio":
      return stdioEnd();
    case "tcp": {
      const stream = await tcp.connect(address.host!, address.port!, {
        ...deadline,
        ...pick(address.options, ["noDelay", "keepAlive"]),
      });
      return streamEnd(stream, netLabel("tcp", stream.remoteAddr));
    }
    case "unix": {
      const stream = await unix.connect(address.path!, deadline);
      return streamEnd(stream, `unix:${showPath(address.path!)}`);
    }
    case "udp": {
      const socket = await udp.connect(address.host!, address.port!, {
        ...deadline,
        ...pick(address.options, ["reuseAddress", "loopback"]),
      });
      return datagramEnd(socket);
    }
    case "exec":
      return await execEnd(address.argv!, signal);
    case "tls": {
      const stream = await tcp.connectTls(address.host!, address.port!, {
        ...deadline,
        ...(await tlsOptions(address)),
      });
      return streamEnd(stream, netLabel("tls", stream.remoteAddr));
    }
    default: {
      const acceptor = await openAcceptor(address);
      try {
        return await acceptor.accept(signal);
      } finally {
        await acceptor.close();
      }
    }
  }
}

/** Closes a listener and waits until its accept in flight let go (so the path is gone). */
async function closeListener(listener: AsyncDisposable): Promise<void> {
  await listener[Symbol.asyncDispose]();
}

/**
 * Starts listening on a listening address.
 *
 * @param address A `*-listen` address.
 * @returns The acceptor.
 * @throws {NetError} as the library reports it.
 */
export async function openAcceptor(address: Address): Promise<Acceptor> {
  switch (address.kind) {
    case "tcp-listen": {
      const listener = tcp.listen({
        ...(address.host === undefined ? {} : { hostname: address.host }),
        port: address.port!,
        ...pick(address.options, ["backlog", "noDelay", "reusePort"]),
      });
      return {
        label: netLabel("tcp-listen", listener.addr),
        single: false,
        accept: async (signal) => {
          const stream = await listener.accept({ signal });
          return streamEnd(stream, netLabel("tcp", stream.remoteAddr));
        },
        close: () => closeListener(listener),
      };
    }
    case "unix-listen": {
      const listener = await unix.listen(
        address.path!,
        pick(address.options, [
          "backlog",
          "mode",
          "owner",
          "group",
          "unlink",
          "unlinkOnClose",
          "mkdir",
        ]),
      );
      const shown = showPath(listener.path);
      let peers = 0;
      return {
        label: `unix-listen:${shown}`,
        single: false,
        accept: async (signal) => {
          const stream = await listener.accept({ signal });
          return streamEnd(stream, `unix:${shown}#${++peers}`);
        },
        close: () => closeListener(listener),
      };
    }
    case "udp-listen": {
      const socket = await udp.bind({
        ...(address.host === undefined ? {} : { hostname: address.host }),
        port: address.port!,
        ...pick(address.options, ["reuseAddress", "loopback"]),
      });
      let handedOut = false;
      return {
        label: netLabel("udp-listen", socket.addr),
        single: true,
        accept: async (signal) => {
          const first = await socket.receive({ signal });
          // From now on only this peer's datagrams are taken (socat's udp-listen).
          await socket.connect(first.hostname, first.port);
          handedOut = true;
          return datagramEnd(socket, first.data);
        },
        close: async () => {
          if (!handedOut) await socket[Symbol.asyncDispose]();
        },
      };
    }
    case "tls-listen": {
      const options = await tlsOptions(address);
      if (options.cert === undefined || options.key === undefined) {
        throw new UsageError(`tls-listen: needs cert=PEM and key=PEM ("${address.text}")`);
      }
      const listener = tcp.listenTls({
        ...(address.host === undefined ? {} : { hostname: address.host }),
        port: address.port!,
        cert: options.cert as string,
        key: options.key as string,
        ...pick(options as AddressOptions, ["alpnProtocols", "noDelay"]),
        ...pick(address.options, ["backlog"]),
      });
      return {
        label: netLabel("tls-listen", listener.addr),
        single: false,
        accept: async (signal) => {
          const stream = await listener.accept({ signal });
          return streamEnd(stream, netLabel("tls", stream.remoteAddr));
        },
        close: () => closeListener(listener),
      };
    }
    default:
      throw new NetError("invalid_argument", `"${address.text}" is not a listening address`, {
        op: "listen",
        field: "address",
      });
  }
}
