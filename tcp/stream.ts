/**
 * `TcpStream`: netkit's byte stream over a TCP connection, with POSIX-style
 * socket options.
 *
 * @module
 */

import { hostPortLabel } from "../common/_address.ts";
import { closedError, toNetError } from "../common/_errors.ts";
import { NetError } from "../common/errors.ts";
import { show } from "../common/_options.ts";
import type { SocketOptionName, SocketOptionValues, WritableOptionName } from "../common/native.ts";
import { holdsDescriptor } from "../common/_native/fd.ts";
import type { DeadlineOptions } from "../common/deadline.ts";
import { Stream } from "../common/stream.ts";

/** The socket options Deno itself can set on a TCP connection (no `--allow-ffi` needed). */
export type TcpOptionName = "tcp_nodelay" | "so_keepalive";

/** How a connection is set up when netkit makes its stream. */
export interface TcpStreamInit {
  /** Turn Nagle's algorithm off (TCP_NODELAY). Default `true`. */
  noDelay?: boolean;
  /** Turn TCP keep-alive probes on (SO_KEEPALIVE). Default: left as is (off). */
  keepAlive?: boolean;
}

/**
 * A TCP connection: every member of netkit's `Stream` (reads with deadlines
 * that lose nothing, `readExact`, `readAll`, exact half-close with
 * `shutdown("w")`, sticky `connection_reset`, web streams) plus socket
 * options by their POSIX names.
 *
 * On close, Deno always sends FIN first (it shuts the write side down, then
 * closes). With input still unread in the kernel the kernel then sends RST,
 * as sock describes: if nothing was still in flight the peer reads end of
 * stream and its next write fails `broken_pipe`; if a reply was still queued,
 * the RST discards it and the peer's read fails `connection_reset`. So a
 * server that stops early should `shutdown("w")`, read until the peer's end
 * of stream, then close (sock's advice for pipelined HTTP). Input netkit has
 * already pulled into its buffer counts as read for the kernel. An abortive
 * close on request is `abort()`, or `setOption("so_linger", 0)` then
 * `close()` (both need `--allow-ffi`).
 *
 * @example
 * ```ts
 * import { connect, listen } from "@netkit/netkit/tcp";
 *
 * await using listener = listen({ hostname: "127.0.0.1", port: 0 });
 * await using client = await connect("127.0.0.1", listener.addr.port);
 * await using server = await listener.accept();
 * await client.writeAll("GET\n");
 * await client.shutdown("w");
 * console.log(await server.readLine()); // "GET"
 * console.log(client.getOption("tcp_nodelay")); // true
 * ```
 */
export class TcpStream extends Stream {
  #conn: Deno.TcpConn;
  #noDelay = false;
  /** Whether the kernel already has `#noDelay` (Deno's sockets start with Nagle on). */
  #noDelaySet = true;
  #keepAlive = false;

  /**
   * Wraps a connected `Deno.TcpConn`; `connect` and `accept` make these.
   *
   * @param conn The connection.
   * @param init `noDelay` (default `true`) and `keepAlive` (default: untouched).
   * @throws {NetError} `closed` when the connection is already closed.
   */
  constructor(conn: Deno.TcpConn, init: TcpStreamInit = {}) {
    super(conn);
    this.#conn = conn;
    // TCP_NODELAY matters only once we send: it is applied before the first
    // write, so a connection that never writes pays no setsockopt for it.
    if (init.noDelay ?? true) {
      this.#noDelay = true;
      this.#noDelaySet = false;
    }
    try {
      if (init.keepAlive !== undefined) this.#apply("so_keepalive", init.keepAlive);
    } catch (error) {
      throw toNetError(error, "connect", this.#label);
    }
  }

  /** The local address and port. */
  override get localAddr(): Deno.NetAddr {
    return super.localAddr as Deno.NetAddr;
  }

  /** The peer's address and port. */
  override get remoteAddr(): Deno.NetAddr {
    return super.remoteAddr as Deno.NetAddr;
  }

  /** The peer as `"ip:port"` or `"[v6]:port"`, for messages. */
  get #label(): string {
    return hostPortLabel(this.remoteAddr.hostname, this.remoteAddr.port);
  }

  /** Applies a deferred `noDelay` before data goes out. */
  #syncNoDelay(): void {
    this.#noDelaySet = true;
    try {
      this.#conn.setNoDelay(this.#noDelay);
    } catch {
      // A closed or failed connection: the write itself reports it.
    }
  }

  /**
   * One write; see {@linkcode Stream.write}.
   *
   * @example
   * ```ts
   * import { connect, listen } from "@netkit/netkit/tcp";
   *
   * await using listener = listen({ hostname: "127.0.0.1", port: 0 });
   * await using client = await connect("127.0.0.1", listener.addr.port);
   * await using server = await listener.accept();
   * console.log(await client.write("hi")); // 2
   * ```
   */
  override write(data: Uint8Array | string, options?: DeadlineOptions): Promise<number> {
    if (!this.#noDelaySet) this.#syncNoDelay();
    return super.write(data, options);
  }

  /**
   * Writes every byte; see {@linkcode Stream.writeAll}.
   *
   * @example
   * ```ts
   * import { connect, listen } from "@netkit/netkit/tcp";
   *
   * await using listener = listen({ hostname: "127.0.0.1", port: 0 });
   * await using client = await connect("127.0.0.1", listener.addr.port);
   * await using server = await listener.accept();
   * await client.writeAll("hello");
   * console.log((await server.readExact(5)).length); // 5
   * ```
   */
  override writeAll(data: Uint8Array | string, options?: DeadlineOptions): Promise<void> {
    if (!this.#noDelaySet) this.#syncNoDelay();
    return super.writeAll(data, options);
  }

  #apply(name: TcpOptionName, value: boolean): void {
    if (name === "tcp_nodelay") {
      this.#conn.setNoDelay(value);
      this.#noDelay = value;
      this.#noDelaySet = true;
    } else {
      this.#conn.setKeepAlive(value);
      this.#keepAlive = value;
    }
  }

  /**
   * Sets a socket option by its POSIX name (sock's `setopt`, XPIO's
   * `setsockopt`). `tcp_nodelay` and `so_keepalive` go through Deno and work
   * without `--allow-ffi`; every other name of the table (`so_rcvbuf`,
   * `so_linger`, `tcp_keepidle`, `tcp_user_timeout`, `ip_ttl`, …) needs it.
   *
   * @param name The option's POSIX name, lower case.
   * @param value Its value (a boolean for the two Deno options).
   * @throws {NetError} `invalid_argument` (field `name` or `value`) for an
   *   unknown name, one that does not apply to TCP, or a wrong value;
   *   `not_supported` without `--allow-ffi` (naming it) or when the kernel
   *   refuses; `closed` after `close()`.
   *
   * @example Turn Nagle's algorithm back on for bulk writes
   * ```ts
   * import { connect, listen } from "@netkit/netkit/tcp";
   *
   * await using listener = listen({ hostname: "127.0.0.1", port: 0 });
   * await using client = await connect("127.0.0.1", listener.addr.port);
   * await using _server = await listener.accept();
   * client.setOption("tcp_nodelay", false);
   * client.setOption("so_keepalive", true);
   * console.log(client.getOption("tcp_nodelay"), client.getOption("so_keepalive")); // false true
   * ```
   */
  override setOption<K extends WritableOptionName>(name: K, value: SocketOptionValues[K]): void {
    if (name !== "tcp_nodelay" && name !== "so_keepalive") return super.setOption(name, value);
    if (typeof value !== "boolean") {
      throw new NetError("invalid_argument", `value must be a boolean (got ${show(value)})`, {
        op: "setOption",
        address: this.#label,
        field: "value",
      });
    }
    if (this.closed) throw closedError("setOption", this.#label);
    try {
      this.#apply(name, value);
    } catch (error) {
      if (this.closed) throw closedError("setOption", this.#label);
      throw toNetError(error, "setOption", this.#label);
    }
  }

  /**
   * Reads a socket option (sock's `getopt`, XPIO's `getsockopt`) from the
   * kernel. `tcp_nodelay` and `so_keepalive` also work without
   * `--allow-ffi`: until the descriptor was looked up they answer what
   * netkit set (nothing else can have changed them), then the kernel.
   *
   * @param name The option's POSIX name, lower case.
   * @returns Its current value.
   * @throws {NetError} as {@linkcode TcpStream.setOption}.
   *
   * @example
   * ```ts
   * import { connect, listen } from "@netkit/netkit/tcp";
   *
   * await using listener = listen({ hostname: "127.0.0.1", port: 0 });
   * await using client = await connect("127.0.0.1", listener.addr.port, { keepAlive: true });
   * await using _server = await listener.accept();
   * console.log(client.getOption("so_keepalive")); // true
   * ```
   */
  override getOption<K extends SocketOptionName>(name: K): SocketOptionValues[K] {
    if (name !== "tcp_nodelay" && name !== "so_keepalive") return super.getOption(name);
    if (this.closed) throw closedError("getOption", this.#label);
    if (!holdsDescriptor(this.#conn)) {
      return (name === "tcp_nodelay" ? this.#noDelay : this.#keepAlive) as SocketOptionValues[K];
    }
    if (!this.#noDelaySet) this.#syncNoDelay();
    return super.getOption(name);
  }
}
