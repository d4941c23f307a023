/**
 * Unix datagram sockets (lsocket's `bind("udp", path)`), with the path's
 * life cycle of `unix.listen`.
 *
 * @module
 */

import { deadlineOf } from "../common/_deadline.ts";
import type { DeadlineOptions } from "../common/deadline.ts";
import { toNetError } from "../common/_errors.ts";
import { Lock } from "../common/_lock.ts";
import { validateOptions } from "../common/_options.ts";
import type { Schema } from "../common/_options.ts";
import {
  bindPath,
  type BoundPath,
  boundPaths,
  displayPath,
  probeByConnect,
  toSocketPath,
  UNIX_PATH_RULES,
} from "../common/_unix_path.ts";
import type { UnixPathOptions } from "../common/unix_path.ts";
import { toBytes } from "../common/_bytes.ts";
import { DatagramSocket } from "./datagram.ts";
import { DEFAULT_BUFFER_SIZE, MAX_BUFFER_SIZE, requireDatagrams } from "./_open.ts";
import { bindUnbound, type UnboundUnixOptions, type UnixDatagramClient } from "./unix_client.ts";

/** Options of {@linkcode bindUnix}: the path's life cycle and the receive buffer. */
export interface BindUnixOptions extends UnixPathOptions {
  /**
   * The longest datagram received whole, in bytes (default 65536). Unix
   * datagrams may be longer (up to the socket's send buffer, about 208 KiB);
   * a longer one is cut to this size and received with `truncated: true`.
   */
  bufferSize?: number;
}

/** One received unix datagram. */
export interface UnixDatagram {
  /** The payload (zero-length for an empty datagram); the caller owns it. */
  data: Uint8Array;
  /** The sender's path (`"\0name"` for an abstract one), or `null` for an unbound sender. */
  path: string | null;
  /** True when the datagram was longer than `bufferSize` and was cut. */
  truncated: boolean;
}

const EMPTY = new Uint8Array(0);

const BIND_UNIX_RULES: Schema = {
  ...UNIX_PATH_RULES,
  bufferSize: { type: "integer", min: 1, max: MAX_BUFFER_SIZE },
};

function display(path: string | null): string | undefined {
  return path === null ? undefined : displayPath(path);
}

/**
 * Tells a live socket at `path` from a stale file (see `probeByConnect`): a
 * live datagram socket answers a stream connect with "wrong type" (os error
 * 91). Nothing is sent to it.
 */
function probeDatagram(path: string): Promise<"alive" | "stale"> {
  return probeByConnect(path, (error) => /\(os error 91\)/.test((error as Error).message));
}

/**
 * A unix datagram socket (made by {@linkcode bindUnix}). Like `UdpSocket`:
 * one receive outstanding, so a timed-out receive loses nothing and
 * datagrams come in arrival order; closing rejects a waiting receive with
 * `closed` and removes the path (when `unlinkOnClose` and it is still this
 * socket's file — Deno itself never unlinks datagram paths).
 *
 * @example
 * ```ts
 * import { bindUnix } from "@netkit/netkit/udp";
 *
 * const dir = await Deno.makeTempDir();
 * const server = await bindUnix(`${dir}/server.sock`);
 * const client = await bindUnix(`${dir}/client.sock`);
 * await client.sendTo("ping", server.path);
 * const { data, path } = await server.receive({ timeout: 1000 });
 * await server.sendTo(data, path!);
 * console.log(new TextDecoder().decode((await client.receive()).data)); // "ping"
 * await client[Symbol.asyncDispose]();
 * await server[Symbol.asyncDispose]();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class UnixDatagramSocket extends DatagramSocket<UnixDatagram> {
  #bound: BoundPath<Deno.DatagramConn>;
  #label: string | undefined;
  #sendLock = new Lock();
  #waker: Deno.DatagramConn | null = null;
  #wakeName = `\0netkit-wake-${crypto.randomUUID()}`;

  /**
   * Made by {@linkcode bindUnix}; user code does not call this.
   *
   * @param bound The bound socket and its path's release.
   * @param bufferSize The longest datagram received whole.
   */
  constructor(bound: BoundPath<Deno.DatagramConn>, bufferSize: number) {
    super(bound.resource, bufferSize, display(bound.path));
    this.#bound = bound;
    boundPaths.set(this, bound);
    this.#label = display(bound.path);
  }

  /** The sender's path, `null` for an unbound sender. */
  protected decode(data: Uint8Array, from: Deno.Addr, truncated: boolean): UnixDatagram {
    return { data, path: (from as Deno.UnixAddr).path ?? null, truncated };
  }

  /** The datagrams that wake a receive for a send are not handed out. */
  protected override accepts(datagram: UnixDatagram): boolean {
    return datagram.path !== this.#wakeName;
  }

  /** The bound path (an abstract name as `"\0name"`). */
  get path(): string {
    return this.#bound.path;
  }

  /** The local address. */
  get addr(): Deno.UnixAddr {
    return { transport: "unixpacket", path: this.#bound.path };
  }

  /**
   * Sends one datagram to the socket bound at `path`.
   *
   * @param data Bytes, or a string (UTF-8 encoded); may be empty.
   * @param path The receiver's path; `"@name"` or `"\0name"` for an abstract name.
   * @param options `{ timeout, signal }`. A receiver that does not read
   *   lets about 10 datagrams queue; then a send waits (it may still go out
   *   after a timeout).
   * @returns How many bytes were sent.
   * @throws {NetError} `not_found` (nothing at the path),
   *   `connection_refused` (a stale path), `invalid_argument` (bad path, a
   *   stream socket, a datagram over the kernel's limit), `closed`,
   *   `timeout`, `aborted`.
   *
   * @example
   * ```ts
   * import { bindUnix } from "@netkit/netkit/udp";
   *
   * await using socket = await bindUnix("@netkit-doc-send");
   * console.log(await socket.sendTo("to myself", "@netkit-doc-send")); // 9
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
    const sending = this.#send(bytes, to);
    try {
      return await (deadline === undefined ? sending : deadline.wait(sending));
    } catch (error) {
      this.checkOpen("sendTo");
      throw toNetError(error, "sendTo", display(to));
    }
  }

  /**
   * Deno's unix datagram socket refuses to send (`Busy`) while a receive is
   * pending, and a receive outlives its timeout; so a send first completes
   * the outstanding receive with a datagram from a private abstract name
   * that the receive side drops, and receives wait until the send is done.
   */
  async #send(bytes: Uint8Array, to: string): Promise<number> {
    await this.#sendLock.acquire();
    try {
      await this.pauseReceiving(this.#wake);
      this.checkOpen("sendTo");
      return await this.#bound.resource.send(bytes, { transport: "unixpacket", path: to });
    } finally {
      this.resumeReceiving();
      this.#sendLock.release();
    }
  }

  #wake = (): Promise<number> => {
    this.#waker ??= Deno.listenDatagram({ transport: "unixpacket", path: this.#wakeName });
    return this.#waker.send(EMPTY, { transport: "unixpacket", path: this.#bound.path });
  };

  /**
   * Closes the socket (a waiting receive rejects `closed`) and removes the
   * path when `unlinkOnClose` holds and it is still this socket's file.
   * Closing twice is harmless.
   *
   * @example
   * ```ts
   * import { bindUnix } from "@netkit/netkit/udp";
   *
   * const dir = await Deno.makeTempDir();
   * const socket = await bindUnix(`${dir}/gone.sock`);
   * socket.close();
   * socket.close();
   * console.log(await Deno.lstat(`${dir}/gone.sock`).catch(() => "removed")); // "removed"
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  override close(): void {
    if (this.closed) return;
    // The path goes first: while this socket is bound, no other binder deems it stale.
    this.#bound.release();
    super.close();
    this.#waker?.close();
  }
}

/**
 * Binds a unix datagram socket at `path` (lsocket `bind("udp", path)`;
 * `"@name"` is an abstract name on Linux), with the path options of
 * `unix.listen`: a stale socket file left by a crashed process is removed
 * (a live one is `address_in_use`), `mode`, `owner`/`group`, `mkdir`, and
 * `unlinkOnClose` (default true). Needs `--unstable-net`.
 *
 * @param path The socket path, or an abstract name.
 * @param options Path options and `bufferSize`.
 * @returns The bound socket.
 * @throws {NetError} `invalid_argument` (bad path or option),
 *   `address_in_use`, `not_found` (missing directory without `mkdir`),
 *   `access_denied`, `not_supported` (no `--unstable-net`).
 *
 * @example A socket file with owner-only permissions
 * ```ts
 * import { bindUnix } from "@netkit/netkit/udp";
 *
 * const dir = await Deno.makeTempDir();
 * const socket = await bindUnix(`${dir}/run/app.sock`, { mkdir: true, mode: 0o600 });
 * console.log((await Deno.stat(socket.path)).mode! & 0o777); // 384
 * socket.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function bindUnix(path: string, options?: BindUnixOptions): Promise<UnixDatagramSocket>;
/**
 * Makes an unbound unix datagram socket (no path): it sends to any path
 * with `sendTo`; a receiver sees `path: null` and cannot answer it. Deno
 * cannot make it: it is made through the C library (Linux only, needs
 * `--allow-ffi`). See also `connectUnix`.
 *
 * @param path Left out (or `null`).
 * @param options `bufferSize`.
 * @returns The unbound socket.
 * @throws {NetError} `invalid_argument` (bad option), `not_supported`
 *   without `--allow-ffi` (the message names it).
 *
 * @example
 * ```ts
 * import { bindUnix } from "@netkit/netkit/udp";
 *
 * await using server = await bindUnix("@netkit-doc-unbound-sender");
 * await using sender = await bindUnix();
 * await sender.sendTo("hello", server.path);
 * console.log((await server.receive({ timeout: 1000 })).path, sender.path); // null null
 * ```
 */
export function bindUnix(path?: null, options?: UnboundUnixOptions): Promise<UnixDatagramClient>;
export async function bindUnix(
  path?: string | null,
  options?: BindUnixOptions | UnboundUnixOptions,
): Promise<UnixDatagramSocket | UnixDatagramClient> {
  if (path === undefined || path === null) return bindUnbound(options as UnboundUnixOptions);
  const checked = validateOptions<BindUnixOptions>("bindUnix", options, BIND_UNIX_RULES);
  requireDatagrams("bindUnix");
  const bound = await bindPath(
    "bindUnix",
    path,
    checked,
    (bindTo) => Deno.listenDatagram({ transport: "unixpacket", path: bindTo }),
    probeDatagram,
    (conn) => conn.close(),
    true,
  );
  return new UnixDatagramSocket(bound, checked.bufferSize ?? DEFAULT_BUFFER_SIZE);
}
