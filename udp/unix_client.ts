/**
 * The unix datagram sockets Deno cannot make: unbound ones (`bindUnix()`
 * without a path: they send, nobody can answer them) and connected ones
 * (lsocket `connect("udp", path)`, XPIO `send` without a path), through the
 * native layer's datagram engine.
 *
 * @module
 */

import { getOptionAt, setOptionAt } from "../common/_native/ops.ts";
import { deadlineOf } from "../common/_deadline.ts";
import type { DeadlineOptions } from "../common/deadline.ts";
import { closedError, toNetError } from "../common/_errors.ts";
import { NetError } from "../common/errors.ts";
import { type Schema, validateOptions } from "../common/_options.ts";
import {
  bindPath,
  type BoundPath,
  displayPath,
  isPath,
  probeByConnect,
  toSocketPath,
  UNIX_PATH_RULES,
} from "../common/_unix_path.ts";
import type { UnixPathOptions } from "../common/unix_path.ts";
import { toBytes } from "../common/_bytes.ts";
import type { SocketOptionName, SocketOptionValues, WritableOptionName } from "../common/native.ts";
import { type DatagramEngine, openDatagram, unixAddress } from "../common/_native/datagram.ts";
import { hold, native, unhold } from "../common/_native/libc.ts";
import type { NativeSocket } from "../common/_native/socket.ts";
import { DatagramSocket } from "./datagram.ts";
import { DEFAULT_BUFFER_SIZE, MAX_BUFFER_SIZE } from "./_open.ts";
import type { UnixDatagram } from "./unix.ts";

/** Options of {@linkcode connectUnix}. */
export interface ConnectUnixOptions extends UnixPathOptions {
  /**
   * Binds the socket there first, so the server can answer (a file path,
   * with the other path options applied to it as `bindUnix` does, or an
   * abstract `"@name"`). Left out, the socket is unbound: it sends and
   * receives nothing back, since the server sees no address to answer.
   */
  localPath?: string;
  /** The longest datagram received whole, in bytes (default 65536). */
  bufferSize?: number;
}

/** Options of an unbound `bindUnix()`. */
export interface UnboundUnixOptions {
  /** The longest datagram received whole, in bytes (default 65536). */
  bufferSize?: number;
}

const CONNECT_UNIX_RULES: Schema = {
  ...UNIX_PATH_RULES,
  localPath: {
    type: "custom",
    accepts: 'a unix socket path or an abstract "@name"',
    check: isPath,
  },
  bufferSize: { type: "integer", min: 1, max: MAX_BUFFER_SIZE },
};

const UNBOUND_RULES: Schema = {
  bufferSize: { type: "integer", min: 1, max: MAX_BUFFER_SIZE },
};

const OPTION_SOCKET = {
  kind: "unix-dgram",
  kindName: "a unix datagram socket",
  family: "unix",
} as unknown as NativeSocket;

function display(path: string | null): string | undefined {
  return path === null ? undefined : displayPath(path);
}

/** A live datagram socket answers a stream connect with "wrong type" (os error 91). */
function probeDatagram(path: string): Promise<"alive" | "stale"> {
  return probeByConnect(path, (error) => /\(os error 91\)/.test((error as Error).message));
}

/**
 * A unix datagram socket made through the C library: unbound (from
 * `bindUnix()` without a path) or connected to one server (from
 * {@linkcode connectUnix}). Like every netkit datagram socket it keeps one
 * receive in flight (a timed-out receive loses nothing) and `close()`
 * rejects a waiting receive with `closed` at once; sends never wait for a
 * receive. A connected socket receives only from its server (the kernel
 * refuses other senders: their `sendTo` is `access_denied`).
 *
 * @example Request and reply through a connected socket
 * ```ts
 * import { bindUnix, connectUnix } from "@netkit/netkit/udp";
 *
 * await using server = await bindUnix("@netkit-doc-server");
 * await using client = await connectUnix("@netkit-doc-server", { localPath: "@netkit-doc-client" });
 * await client.send("ping");
 * const { data, path } = await server.receive({ timeout: 1000 });
 * await server.sendTo(data, path!);
 * console.log(new TextDecoder().decode((await client.receive({ timeout: 1000 })).data)); // "ping"
 * ```
 */
export class UnixDatagramClient extends DatagramSocket<UnixDatagram> {
  readonly #engine: DatagramEngine;
  readonly #bound: BoundPath<DatagramEngine> | null;
  readonly #peer: string | null;
  readonly #label: string | undefined;
  #lastPath: string | undefined;
  #lastAddress: Uint8Array | undefined;

  /**
   * Made by {@linkcode connectUnix} and `bindUnix()`; user code does not call this.
   *
   * @param engine The socket's datagram engine (it owns the descriptor).
   * @param bound The local path and its release, or `null` when unbound.
   * @param peer The connected server's path, or `null`.
   * @param bufferSize The longest datagram received whole.
   */
  constructor(
    engine: DatagramEngine,
    bound: BoundPath<DatagramEngine> | null,
    peer: string | null,
    bufferSize: number,
  ) {
    const label = display(bound?.path ?? peer);
    super(engine, bufferSize, label);
    this.#engine = engine;
    this.#bound = bound;
    this.#peer = peer;
    this.#label = label;
  }

  /** The sender's path, `null` for an unbound sender. */
  protected decode(data: Uint8Array, from: Deno.Addr, truncated: boolean): UnixDatagram {
    return { data, path: (from as Deno.UnixAddr).path ?? null, truncated };
  }

  /** The socket's own path (`"\0name"` for an abstract one), or `null` when unbound. */
  get path(): string | null {
    return this.#bound?.path ?? null;
  }

  /** The local address (`path` `null` when unbound). */
  get addr(): Deno.UnixAddr {
    return { transport: "unixpacket", path: this.path as string };
  }

  /** The server's path for a connected socket, or `null`. */
  get remotePath(): string | null {
    return this.#peer;
  }

  /**
   * Sends one datagram to the connected server (XPIO `send`, lsocket
   * `send` on a connected socket).
   *
   * @param data Bytes, or a string (UTF-8 encoded); may be empty.
   * @param options `{ timeout, signal }`. A server that does not read lets
   *   its queue fill (about 10 datagrams); then a send waits.
   * @returns How many bytes were sent.
   * @throws {NetError} `invalid_argument` when not connected (use `sendTo`)
   *   or for a datagram over the kernel's limit, `connection_refused` when
   *   the server's socket is gone, `closed`, `timeout`, `aborted`.
   *
   * @example
   * ```ts
   * import { bindUnix, connectUnix } from "@netkit/netkit/udp";
   *
   * await using server = await bindUnix("@netkit-doc-send-server");
   * await using client = await connectUnix("@netkit-doc-send-server");
   * console.log(await client.send("hello")); // 5
   * ```
   */
  async send(data: Uint8Array | string, options?: DeadlineOptions): Promise<number> {
    const bytes = toBytes("send", data);
    using deadline = deadlineOf("send", options, this.#label);
    this.checkOpen("send");
    if (this.#peer === null) {
      throw new NetError(
        "invalid_argument",
        "the socket is not connected: use sendTo(data, path), or connectUnix(path)",
        { op: "send", address: this.#label },
      );
    }
    return await this.#transmit("send", bytes, null, display(this.#peer), deadline);
  }

  /**
   * Sends one datagram to the socket bound at `path`.
   *
   * @param data Bytes, or a string (UTF-8 encoded); may be empty.
   * @param path The receiver's path; `"@name"` or `"\0name"` for an abstract name.
   * @param options `{ timeout, signal }`.
   * @returns How many bytes were sent.
   * @throws {NetError} `not_found` (nothing at the path),
   *   `connection_refused` (a socket file nobody has open),
   *   `access_denied` (the receiver is connected to another socket, or the
   *   file's mode), `invalid_argument` (bad path, a stream socket, a
   *   datagram over the kernel's limit), `closed`, `timeout`, `aborted`.
   *
   * @example An unbound socket sends (and nobody can answer it)
   * ```ts
   * import { bindUnix } from "@netkit/netkit/udp";
   *
   * await using server = await bindUnix("@netkit-doc-unbound");
   * await using sender = await bindUnix();
   * await sender.sendTo("log line", "@netkit-doc-unbound");
   * console.log((await server.receive({ timeout: 1000 })).path); // null
   * ```
   */
  async sendTo(
    data: Uint8Array | string,
    path: string,
    options?: DeadlineOptions,
  ): Promise<number> {
    const bytes = toBytes("sendTo", data);
    const to = toSocketPath("sendTo", path);
    using deadline = deadlineOf("sendTo", options, display(to));
    this.checkOpen("sendTo");
    if (to !== this.#lastPath) {
      this.#lastPath = to;
      this.#lastAddress = unixAddress(this.#engine.n, to);
    }
    return await this.#transmit("sendTo", bytes, this.#lastAddress!, display(to), deadline);
  }

  async #transmit(
    op: string,
    bytes: Uint8Array,
    to: Uint8Array | null,
    label: string | undefined,
    deadline: ReturnType<typeof deadlineOf>,
  ): Promise<number> {
    const sending = this.#engine.send(bytes, to, op, label);
    try {
      return await (deadline === undefined ? sending : deadline.wait(sending));
    } catch (error) {
      if (this.closed) throw closedError(op, this.#label);
      if ((error as NetError).cause !== undefined && causeCode(error) === "ENOTCONN") {
        // The kernel reports a vanished server once (ECONNREFUSED), then dissolves the connection.
        throw new NetError(
          "connection_refused",
          "the server's socket was closed (the kernel dropped the connection): connect again",
          { op, address: label, cause: (error as NetError).cause },
        );
      }
      throw toNetError(error, op, label);
    }
  }

  /**
   * The socket's descriptor (XPIO `fileno`, lsocket `getfd`); netkit owns it.
   *
   * @example
   * ```ts
   * import { bindUnix } from "@netkit/netkit/udp";
   *
   * await using socket = await bindUnix();
   * console.log(socket.fileno() > 2); // true
   * ```
   */
  override fileno(): number {
    this.checkOpen("fileno");
    return this.#engine.fd;
  }

  /**
   * Sets a socket option by its POSIX name (`so_rcvbuf`, `so_sndbuf`).
   *
   * @param name The option's name, lower case.
   * @param value Its value.
   * @throws {NetError} `invalid_argument` (field `name` or `value`),
   *   `not_supported` (read-only, or refused by the kernel), `closed`.
   *
   * @example
   * ```ts
   * import { bindUnix } from "@netkit/netkit/udp";
   *
   * await using socket = await bindUnix();
   * socket.setOption("so_sndbuf", 65536);
   * console.log(socket.getOption("so_sndbuf")); // 131072
   * ```
   */
  override setOption<K extends WritableOptionName>(name: K, value: SocketOptionValues[K]): void {
    const engine = this.#engine;
    setOptionAt(
      engine.n,
      engine.fd,
      OPTION_SOCKET,
      name,
      value,
      (op) => this.checkOpen(op),
      this.#label,
    );
  }

  /**
   * Reads a socket option from the kernel (getsockopt).
   *
   * @param name The option's name, lower case.
   * @returns Its current value.
   * @throws {NetError} as `setOption`.
   *
   * @example
   * ```ts
   * import { bindUnix } from "@netkit/netkit/udp";
   *
   * await using socket = await bindUnix();
   * console.log(socket.getOption("so_type")); // "dgram"
   * ```
   */
  override getOption<K extends SocketOptionName>(name: K): SocketOptionValues[K] {
    const engine = this.#engine;
    return getOptionAt(
      engine.n,
      engine.fd,
      OPTION_SOCKET,
      name,
      (op) => this.checkOpen(op),
      this.#label,
    ) as SocketOptionValues[K];
  }

  /**
   * Closes the socket (a waiting receive rejects `closed`) and removes its
   * own path when it has one, `unlinkOnClose` holds and it is still this
   * socket's file. Closing twice is harmless.
   *
   * @example
   * ```ts
   * import { bindUnix } from "@netkit/netkit/udp";
   *
   * const socket = await bindUnix();
   * const waiting = socket.receive().catch((error) => error.code);
   * socket.close();
   * console.log(await waiting); // "closed"
   * await socket[Symbol.asyncDispose]();
   * ```
   */
  override close(): void {
    if (this.closed) return;
    this.#bound?.release();
    super.close();
  }

  /** Closes the socket and waits until its descriptor is closed and nothing waits on it. */
  override async [Symbol.asyncDispose](): Promise<void> {
    await super[Symbol.asyncDispose]();
    await this.#engine.close();
  }
}

function causeCode(error: unknown): string | undefined {
  return ((error as { cause?: { code?: unknown } }).cause?.code as string | undefined);
}

function openUnix(op: string, what: string): DatagramEngine {
  return openDatagram(op, what, "unix", "dgram", 0);
}

/**
 * An unbound unix datagram socket (`bindUnix()` without a path): it sends
 * to any path; a receiver sees it as `path: null` and cannot answer.
 *
 * @param options `bufferSize`.
 * @throws {NetError} `invalid_argument`, `not_supported` without `--allow-ffi`.
 */
export function bindUnbound(options?: UnboundUnixOptions): UnixDatagramClient {
  const checked = validateOptions<UnboundUnixOptions>("bindUnix", options, UNBOUND_RULES);
  const engine = openUnix("bindUnix", "an unbound unix datagram socket");
  return new UnixDatagramClient(engine, null, null, checked.bufferSize ?? DEFAULT_BUFFER_SIZE);
}

/**
 * Connects a unix datagram socket to the server bound at `path` (lsocket
 * `connect("udp", path)`): `send` without a path goes there, and only that
 * server's datagrams are received (the kernel filters). With `localPath`
 * the socket is bound there first so the server can answer; without it,
 * it only sends. Linux only; needs `--allow-ffi`.
 *
 * @param path The server's path, or an abstract `"@name"`.
 * @param options `localPath` with its path options, `bufferSize`.
 * @returns The connected socket.
 * @throws {NetError} `invalid_argument` (bad path or option; a stream
 *   socket at `path`), `not_found` (nothing at the path),
 *   `connection_refused` (a socket file nobody has open), `access_denied`,
 *   `address_in_use` (a live socket at `localPath`), `not_supported`
 *   without `--allow-ffi` (the message names it).
 *
 * @example
 * ```ts
 * import { bindUnix, connectUnix } from "@netkit/netkit/udp";
 *
 * const dir = await Deno.makeTempDir();
 * await using server = await bindUnix(`${dir}/server.sock`);
 * await using client = await connectUnix(`${dir}/server.sock`, { localPath: `${dir}/client.sock` });
 * await client.send("hello");
 * const { path } = await server.receive({ timeout: 1000 });
 * console.log(path === `${dir}/client.sock`, client.remotePath === server.path); // true true
 * await client[Symbol.asyncDispose]();
 * await server[Symbol.asyncDispose]();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function connectUnix(
  path: string,
  options?: ConnectUnixOptions,
): Promise<UnixDatagramClient> {
  const op = "connectUnix";
  const to = toSocketPath(op, path);
  const checked = validateOptions<ConnectUnixOptions>(op, options, CONNECT_UNIX_RULES);
  const { localPath, bufferSize, ...pathOptions } = checked;
  if (localPath === undefined) {
    for (const field of Object.keys(pathOptions) as (keyof UnixPathOptions)[]) {
      if (pathOptions[field] !== undefined) {
        throw new NetError("invalid_argument", `${field} applies to localPath, which is not set`, {
          op,
          field,
        });
      }
    }
  } else {
    toSocketPath(op, localPath);
  }
  const what = "a connected unix datagram socket";
  native(op, what, display(to));
  // Held while the socket is being made, so the library stays open on every path.
  hold();
  try {
    return await connecting(op, what, to, localPath, pathOptions, bufferSize);
  } finally {
    unhold();
  }
}

async function connecting(
  op: string,
  what: string,
  to: string,
  localPath: string | undefined,
  pathOptions: UnixPathOptions,
  bufferSize: number | undefined,
): Promise<UnixDatagramClient> {
  let bound: BoundPath<DatagramEngine> | null = null;
  let engine: DatagramEngine;
  if (localPath === undefined) {
    engine = openUnix(op, what);
  } else {
    bound = await bindPath(
      op,
      localPath,
      pathOptions,
      (bindTo) => {
        const made = openUnix(op, what);
        try {
          made.bind(unixAddress(made.n, bindTo), op);
        } catch (error) {
          void made.close();
          throw error;
        }
        return made;
      },
      probeDatagram,
      (made) => void made.close(),
      true,
    );
    engine = bound.resource;
  }
  try {
    engine.connect(unixAddress(engine.n, to), op, display(to));
  } catch (error) {
    bound?.release();
    await engine.close();
    throw toNetError(error, op, display(to));
  }
  return new UnixDatagramClient(engine, bound, to, bufferSize ?? DEFAULT_BUFFER_SIZE);
}
