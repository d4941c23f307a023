/**
 * `TcpStream`: netkit's byte stream over a TCP connection, with POSIX-style
 * socket options.
 *
 * @module
 */

import { hostPortLabel } from "../common/_address.ts";
import { closedError, toNetError } from "../common/_errors.ts";
import { NetError } from "../common/errors.ts";
import { invalidArgument, show } from "../common/_options.ts";
import type { DeadlineOptions } from "../common/deadline.ts";
import { Stream } from "../common/stream.ts";

/** The socket options Deno can set on a TCP connection. */
export type TcpOptionName = "tcp_nodelay" | "so_keepalive";

/** How a connection is set up when netkit makes its stream. */
export interface TcpStreamInit {
  /** Turn Nagle's algorithm off (TCP_NODELAY). Default `true`. */
  noDelay?: boolean;
  /** Turn TCP keep-alive probes on (SO_KEEPALIVE). Default: left as is (off). */
  keepAlive?: boolean;
}

const KEEPALIVE_REASON = "Deno can only switch SO_KEEPALIVE on or off " +
  "(setKeepAlive); the probe timing keeps the system's default";
const BUFFER_REASON = "Deno exposes no setsockopt/getsockopt for socket buffers; " +
  "the kernel sizes them automatically";
const GENERIC_REASON = "Deno exposes only TCP_NODELAY and SO_KEEPALIVE on a TCP connection " +
  "(no setsockopt/getsockopt)";

/** Documented option names Deno cannot reach, each with the reason. */
const UNSUPPORTED: Record<string, string> = {
  so_rcvbuf: BUFFER_REASON,
  so_sndbuf: BUFFER_REASON,
  so_rcvlowat: BUFFER_REASON,
  so_sndlowat: BUFFER_REASON,
  so_linger: "Deno's close() always sends FIN first (shutdown, then close) and exposes no " +
    "SO_LINGER, so an abortive close (RST) cannot be asked for",
  so_reuseaddr: "Deno sets SO_REUSEADDR on every TCP listener itself and exposes no " +
    "setsockopt on a connection",
  so_reuseport: "only a listener can share its port: listen({ reusePort: true })",
  so_broadcast: "broadcast is a UDP option; a TCP connection has one peer",
  o_nonblock: "Deno's sockets are always non-blocking underneath; netkit's calls wait " +
    "asynchronously (with timeout/signal) and never block the thread",
  so_rcvtimeo: "use the timeout/signal options of each read instead",
  so_sndtimeo: "use the timeout/signal options of each write instead",
  so_error: GENERIC_REASON + "; errors are reported by the next read or write",
  so_type: GENERIC_REASON,
  so_acceptconn: GENERIC_REASON,
  so_dontroute: GENERIC_REASON,
  so_oobinline: GENERIC_REASON + "; Deno has no out-of-band data",
  so_priority: GENERIC_REASON,
  ip_ttl: GENERIC_REASON,
  ip_tos: GENERIC_REASON,
  ipv6_v6only: "only at bind time, and Deno's listen does not expose it",
  tcp_keepidle: KEEPALIVE_REASON,
  tcp_keepintvl: KEEPALIVE_REASON,
  tcp_keepcnt: KEEPALIVE_REASON,
  tcp_maxseg: GENERIC_REASON,
  tcp_cork: GENERIC_REASON,
  tcp_quickack: GENERIC_REASON,
  tcp_user_timeout: GENERIC_REASON,
  tcp_fastopen: GENERIC_REASON,
};

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
 * close on request (SO_LINGER 0) is not possible on Deno (`not_supported`).
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

  #known(op: string, name: unknown): TcpOptionName {
    if (name === "tcp_nodelay" || name === "so_keepalive") return name;
    if (typeof name === "string" && name in UNSUPPORTED) {
      throw new NetError("not_supported", `${name} is not supported: ${UNSUPPORTED[name]}`, {
        op,
        address: this.#label,
        field: "name",
      });
    }
    throw invalidArgument(op, "name", '"tcp_nodelay" or "so_keepalive"', name);
  }

  /**
   * Sets a socket option by its POSIX name (sock's `setopt`, XPIO's
   * `setsockopt`). Deno can set `tcp_nodelay` and `so_keepalive` (booleans);
   * every other documented name (`so_rcvbuf`, `so_sndbuf`, `so_linger`,
   * `so_reuseaddr`, `so_broadcast`, `o_nonblock`, `ip_ttl`, `tcp_keepidle`,
   * …) fails with `not_supported` and the reason.
   *
   * @param name The option's POSIX name, lower case.
   * @param value Its value: a boolean for the two supported options.
   * @throws {NetError} `not_supported` for an option Deno cannot set;
   *   `invalid_argument` (field `name` or `value`) for an unknown name or a
   *   wrong value type; `closed` after `close()`.
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
  setOption(name: string, value: boolean): void {
    const option = this.#known("setOption", name);
    if (typeof value !== "boolean") {
      throw new NetError("invalid_argument", `value must be a boolean (got ${show(value)})`, {
        op: "setOption",
        address: this.#label,
        field: "value",
      });
    }
    if (this.closed) throw closedError("setOption", this.#label);
    try {
      this.#apply(option, value);
    } catch (error) {
      if (this.closed) throw closedError("setOption", this.#label);
      throw toNetError(error, "setOption", this.#label);
    }
  }

  /**
   * Reads a socket option back (sock's `getopt`, XPIO's `getsockopt`). Deno
   * has no getsockopt, so the answer is the value netkit set: `tcp_nodelay`
   * is `true` unless the connection was made with `noDelay: false` or set
   * otherwise since; `so_keepalive` is `false` (the system default) unless
   * set.
   *
   * @param name `"tcp_nodelay"` or `"so_keepalive"`.
   * @returns The value netkit last set on this connection.
   * @throws {NetError} `not_supported` for an option Deno cannot read;
   *   `invalid_argument` for an unknown name; `closed` after `close()`.
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
  getOption(name: string): boolean {
    const option = this.#known("getOption", name);
    if (this.closed) throw closedError("getOption", this.#label);
    return option === "tcp_nodelay" ? this.#noDelay : this.#keepAlive;
  }
}
