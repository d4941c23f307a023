/**
 * `listen` and `TcpListener`: accept TCP connections with deadlines that
 * lose nothing.
 *
 * @module
 */

import { addressForm, checkHost, hostPortLabel } from "../common/_address.ts";
import { type HostPort, INADDR_ANY } from "../common/address.ts";
import { NetError } from "../common/errors.ts";
import { toNetError } from "../common/_errors.ts";
import { Listener } from "../common/listener.ts";
import { TcpStream } from "./stream.ts";

/** Options of {@linkcode listen}. */
export interface ListenOptions {
  /** The address to bind (default `"0.0.0.0"`, every IPv4 interface). */
  hostname?: string;
  /** The port, 0..65535 (default 0: the system picks one; see `addr.port`). */
  port?: number;
  /** Length of the accept queue (Deno's default: 511). */
  backlog?: number;
  /**
   * Set SO_REUSEPORT so several listeners share the port. Needs Deno's
   * `--unstable-net`; without it this is `not_supported`.
   */
  reusePort?: boolean;
  /** Turn Nagle's algorithm off on accepted streams (default `true`). */
  noDelay?: boolean;
}

const LISTEN_RULES = {
  hostname: { type: "string" },
  port: { type: "integer", min: 0, max: 65535 },
  backlog: { type: "integer", min: 1, max: 65535 },
  reusePort: { type: "boolean" },
  noDelay: { type: "boolean" },
} as const;

/**
 * A listening TCP socket. `accept()` takes `{ timeout, signal }`: one that
 * times out consumes nothing (the connection that arrives later goes to the
 * next `accept`), any number of callers may wait at once, and `close()`
 * rejects them with `closed`. Async-iterable over accepted streams.
 *
 * @example
 * ```ts
 * import { connect, listen } from "@netkit/netkit/tcp";
 *
 * await using listener = listen({ hostname: "127.0.0.1", port: 0 });
 * await using client = await connect("127.0.0.1", listener.addr.port);
 * for await (const server of listener) {
 *   console.log(server.remoteAddr.port === client.localAddr.port); // true
 *   server.close();
 *   break;
 * }
 * ```
 */
export class TcpListener extends Listener<TcpStream, Deno.TcpConn> {
  #addr: Deno.NetAddr;

  /**
   * Wraps a `Deno.TcpListener`; {@linkcode listen} makes these.
   *
   * @param listener The runtime listener.
   * @param options `noDelay` for accepted streams (default `true`).
   */
  constructor(listener: Deno.TcpListener, options: { noDelay?: boolean } = {}) {
    const addr = listener.addr;
    const init = Object.freeze({ noDelay: options.noDelay ?? true });
    const label = hostPortLabel(addr.hostname, addr.port);
    super(listener, (conn) => new TcpStream(conn, init), label);
    this.#addr = addr;
  }

  /** The bound address; `addr.port` is the real port after listening on 0. */
  get addr(): Deno.NetAddr {
    return this.#addr;
  }
}

/** The two call forms as one options object, with the defaults filled in. */
function settings(first: unknown, second: unknown): ListenOptions & HostPort {
  const options = addressForm<ListenOptions>("listen", first, second, LISTEN_RULES);
  const hostname = options.hostname === undefined
    ? INADDR_ANY
    : checkHost("listen", options.hostname);
  return { ...options, hostname, port: options.port ?? 0 };
}

/**
 * Listens for TCP connections (sock's `tcp:listen`, XPIO's `bind`+`listen`,
 * lsocket's `bind`). Two forms: `listen({ hostname, port, ... })` and
 * `listen("host:port", options?)` with every form `parseAddress` accepts
 * (`"127.0.0.1:8080"`, `":8080"`, `"[::1]:0"`, `"127.0.0.1"` = any port).
 *
 * @param options `hostname` (default `"0.0.0.0"`), `port` (default 0 = any),
 *   `backlog`, `reusePort` (needs `--unstable-net`), `noDelay` for accepted
 *   streams (default `true`).
 * @returns The listener; `addr.port` tells the port picked for port 0.
 * @throws {NetError} `address_in_use`, `address_not_available`,
 *   `access_denied` (names `--allow-net`; ports below 1024 without
 *   privilege), `name_not_resolved`, `not_supported` (`reusePort` without
 *   `--unstable-net`), `invalid_argument` naming the field.
 *
 * @example
 * ```ts
 * import { listen } from "@netkit/netkit/tcp";
 *
 * await using listener = listen({ hostname: "127.0.0.1", port: 0, backlog: 64 });
 * console.log(listener.addr.hostname, listener.addr.port > 0); // "127.0.0.1" true
 * ```
 */
export function listen(options?: ListenOptions): TcpListener;
/**
 * Listens on `"host:port"`.
 *
 * @param address `"ip:port"`, `"[ipv6]:port"`, `":port"` or an IP address.
 * @param options `backlog`, `reusePort`, `noDelay` (not `hostname`/`port`).
 * @returns The listener.
 * @throws {NetError} as the options form.
 *
 * @example
 * ```ts
 * import { listen } from "@netkit/netkit/tcp";
 *
 * await using listener = listen("127.0.0.1:0");
 * console.log(listener.addr.port > 0); // true
 * ```
 */
export function listen(
  address: string,
  options?: Omit<ListenOptions, "hostname" | "port">,
): TcpListener;
export function listen(
  first?: string | ListenOptions,
  second?: Omit<ListenOptions, "hostname" | "port">,
): TcpListener {
  const { hostname, port, backlog, reusePort, noDelay } = settings(first, second);
  const address = hostPortLabel(hostname, port);
  if (reusePort && typeof Deno.listenDatagram !== "function") {
    // Without the flag Deno would end the whole process (exit code 70).
    throw new NetError(
      "not_supported",
      "reusePort needs Deno's unstable net API: run with --unstable-net " +
        '(or "unstable": ["net"] in deno.json)',
      { op: "listen", address, field: "reusePort" },
    );
  }
  const request: Deno.TcpListenOptions & { tcpBacklog?: number } = { hostname, port };
  if (backlog !== undefined) request.tcpBacklog = backlog;
  if (reusePort) request.reusePort = true;
  let listener: Deno.TcpListener;
  try {
    listener = Deno.listen(request);
  } catch (error) {
    throw toNetError(error, "listen", address);
  }
  return new TcpListener(listener, { noDelay });
}
