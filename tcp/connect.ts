/**
 * `connect`: open a TCP connection, with a deadline over name lookup and
 * every connection attempt.
 *
 * @module
 */

import {
  addressArgument,
  checkHost,
  checkPort,
  hostPortLabel,
  ipVersion,
} from "../common/_address.ts";
import { resolve, type ResolvedAddress } from "../common/address.ts";
import { Deadline } from "../common/_deadline.ts";
import type { DeadlineOptions } from "../common/deadline.ts";
import { NetError } from "../common/errors.ts";
import { toNetError } from "../common/_errors.ts";
import { DEADLINE_RULES, invalidArgument, validateOptions } from "../common/_options.ts";
import { TcpStream, type TcpStreamInit } from "./stream.ts";

/** Options of {@linkcode connect}. */
export interface ConnectOptions extends DeadlineOptions {
  /**
   * Turn Nagle's algorithm off (TCP_NODELAY). Default `true`, as in Go:
   * Deno leaves Nagle on, which costs ~40 ms per small request/response.
   */
  noDelay?: boolean;
  /** Turn TCP keep-alive probes on (SO_KEEPALIVE). Default: off. */
  keepAlive?: boolean;
}

const CONNECT_RULES = {
  ...DEADLINE_RULES,
  noDelay: { type: "boolean" },
  keepAlive: { type: "boolean" },
} as const;

/** Splits the two call forms into host, port and options. */
function target(
  first: unknown,
  second: unknown,
  third: unknown,
): { host: string; port: number; options: ConnectOptions } {
  if (typeof second === "number") {
    const host = checkHost("connect", first, "host");
    const port = checkPort("connect", second, "port", 1);
    return { host, port, options: validateOptions("connect", third, CONNECT_RULES) };
  }
  if (typeof first !== "string") {
    throw invalidArgument("connect", "address", '"host:port" or (host, port)', first);
  }
  if (second !== undefined && (typeof second !== "object" || second === null)) {
    throw invalidArgument("connect", "port", "an integer from 1 to 65535", second);
  }
  if (third !== undefined) {
    throw invalidArgument("connect", "options", "the second argument after an address", third);
  }
  const parsed = addressArgument("connect", first);
  if (parsed.port === 0) {
    throw new NetError("invalid_argument", `address ${JSON.stringify(first)} has no port`, {
      op: "connect",
      field: "port",
    });
  }
  return {
    host: parsed.hostname,
    port: parsed.port,
    options: validateOptions("connect", second, CONNECT_RULES),
  };
}

/**
 * Opens a TCP connection (sock's `tcp:connect`, XPIO's `connect`, lsocket's
 * `connect`). The host is an IPv4 or IPv6 literal or a host name; a name is
 * looked up through the system resolver (so `/etc/hosts` and `localhost`
 * work) and each address is tried in turn, like getaddrinfo users do, until
 * one connects. `timeout`/`signal` bound the whole operation, lookup and
 * attempts; an attempt cut short is cancelled in the runtime, not abandoned.
 * Two runtime limits: a lookup cut short keeps running until the resolver
 * answers (the system resolver cannot be cancelled), and Deno 2.9.6 leaks
 * the connection when the cancel lands in the very turn the handshake
 * completes (a rare race, measured on loopback with 1 ms deadlines).
 *
 * Two forms: `connect(host, port, options?)` and
 * `connect("host:port", options?)` (every form `parseAddress` accepts:
 * `"127.0.0.1:80"`, `"[::1]:80"`, `"localhost:80"`, `"2130706433:80"`).
 *
 * @param host The host (or `"host:port"` in the second form).
 * @param port The port, 1..65535.
 * @param options `timeout`, `signal`, `noDelay` (default `true`), `keepAlive`.
 * @returns The connected stream.
 * @throws {NetError} `connection_refused`, `timeout`, `aborted`,
 *   `name_not_resolved`, `host_unreachable`, `access_denied` (the message
 *   names `--allow-net`), or `invalid_argument` naming the field.
 *
 * @example
 * ```ts
 * import { connect, listen } from "@netkit/netkit/tcp";
 *
 * await using listener = listen({ hostname: "127.0.0.1", port: 0 });
 * await using client = await connect(`127.0.0.1:${listener.addr.port}`, { timeout: 1000 });
 * await using server = await listener.accept();
 * await server.writeAll("hi");
 * console.log(new TextDecoder().decode(await client.readExact(2))); // "hi"
 * ```
 */
export function connect(host: string, port: number, options?: ConnectOptions): Promise<TcpStream>;
/**
 * Opens a TCP connection to `"host:port"`.
 *
 * @param address `"ip:port"`, `"[ipv6]:port"` or `"name:port"`.
 * @param options `timeout`, `signal`, `noDelay` (default `true`), `keepAlive`.
 * @returns The connected stream.
 * @throws {NetError} as the `(host, port)` form.
 *
 * @example
 * ```ts
 * import { connect, listen } from "@netkit/netkit/tcp";
 *
 * await using listener = listen("[::1]:0");
 * await using client = await connect(`[::1]:${listener.addr.port}`);
 * await using _server = await listener.accept();
 * console.log(client.remoteAddr.hostname); // "::1"
 * ```
 */
export function connect(address: string, options?: ConnectOptions): Promise<TcpStream>;
export function connect(
  host: string,
  portOrOptions?: number | ConnectOptions,
  options?: ConnectOptions,
): Promise<TcpStream> {
  let parsed: { host: string; port: number; options: ConnectOptions };
  try {
    parsed = target(host, portOrOptions, options);
  } catch (error) {
    return Promise.reject(error);
  }
  const { host: hostname, port, options: opts } = parsed;
  // Without a deadline there is nothing to set up or tear down: the attempt's
  // own promise is the answer (no extra async frame per connection).
  if (opts.timeout === undefined && opts.signal === undefined) {
    // An address literal without a deadline: one attempt, no lookup, no async frame.
    if (ipVersion(hostname) !== 0) return attempt(hostname, port, streamInit(opts));
    return open(hostname, port, opts, undefined);
  }
  return openWithin(
    hostname,
    port,
    opts,
    Deadline.of(opts, "connect", hostPortLabel(hostname, port))!,
  );
}

/** {@linkcode open} under the caller's `timeout`/`signal`. */
async function openWithin(
  hostname: string,
  port: number,
  opts: ConnectOptions,
  deadline: Deadline,
): Promise<TcpStream> {
  try {
    return await open(hostname, port, opts, deadline);
  } finally {
    deadline.dispose();
  }
}

/** How `connect` sets up its streams when no option asks otherwise. */
const DEFAULT_INIT: TcpStreamInit = Object.freeze({ noDelay: true });

/** The stream settings the options ask for. */
function streamInit(opts: ConnectOptions): TcpStreamInit {
  return opts.noDelay === undefined && opts.keepAlive === undefined
    ? DEFAULT_INIT
    : { noDelay: opts.noDelay ?? true, keepAlive: opts.keepAlive };
}

/** Makes the stream of a new connection, closing the connection if that fails. */
function streamOf(conn: Deno.TcpConn, init: TcpStreamInit): TcpStream {
  try {
    return new TcpStream(conn, init);
  } catch (error) {
    conn.close();
    throw error;
  }
}

/** One attempt at an address literal, without a deadline. */
function attempt(address: string, port: number, init: TcpStreamInit): Promise<TcpStream> {
  return Deno.connect({ hostname: address, port }).then(
    (conn) => streamOf(conn, init),
    (error) => {
      throw toNetError(error, "connect", hostPortLabel(address, port));
    },
  );
}

/** Resolves `hostname` and tries each address in turn until one connects. */
async function open(
  hostname: string,
  port: number,
  opts: ConnectOptions,
  deadline: Deadline | undefined,
): Promise<TcpStream> {
  const init = streamInit(opts);
  let addresses: Pick<ResolvedAddress, "address">[];
  try {
    addresses = ipVersion(hostname) !== 0
      ? [{ address: hostname }]
      : await (deadline === undefined ? resolve(hostname) : deadline.wait(resolve(hostname)));
  } catch (error) {
    const label = hostPortLabel(hostname, port);
    const failure = toNetError(error, "connect", label);
    if (failure.op === "connect") throw failure;
    throw new NetError(failure.code, failure.detail, {
      op: "connect",
      address: label,
      cause: failure.cause ?? failure,
    });
  }
  const signal = deadline?.signal;
  let first: NetError | undefined;
  for (const { address } of addresses) {
    let conn: Deno.TcpConn;
    try {
      conn = await Deno.connect({ hostname: address, port, signal });
    } catch (error) {
      // Deno rejects with the signal's reason (our NetError), or an AbortError
      // when the signal was aborted before the call.
      if (signal?.aborted) throw signal.reason as NetError;
      first ??= toNetError(error, "connect", hostPortLabel(address, port));
      continue;
    }
    return streamOf(conn, init);
  }
  throw first ??
    new NetError("name_not_resolved", "no address found", {
      op: "connect",
      address: hostPortLabel(hostname, port),
    });
}
