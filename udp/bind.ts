/**
 * `bind`: a UDP socket on a local address.
 *
 * @module
 */

import { addressForm, checkHost, checkPort, hostPortLabel } from "../common/_address.ts";
import { NetError } from "../common/errors.ts";
import { toNetError } from "../common/_errors.ts";
import type { Schema } from "../common/_options.ts";
import { checkMembership, familyOf, resolveFor } from "./_address.ts";
import { DEFAULT_BUFFER_SIZE, MAX_BUFFER_SIZE } from "./datagram.ts";
import { UdpSocket } from "./socket.ts";

/** Options of {@linkcode bind} (and the local side of `connect`). */
export interface BindOptions {
  /**
   * The local address (default `"0.0.0.0"`). `"::"` makes a dual-stack
   * socket that also talks to IPv4 peers. A host name is resolved (IPv4 first).
   */
  hostname?: string;
  /** The local port, 0..65535 (default 0: the kernel picks). */
  port?: number;
  /** `SO_REUSEADDR`, e.g. for several receivers of one multicast port (default false). */
  reuseAddress?: boolean;
  /**
   * Whether the multicast datagrams this socket sends are also delivered to
   * members on this host (`IP_MULTICAST_LOOP`). Default **true**, the OS
   * default (Deno's own default is false; netkit always passes it).
   */
  loopback?: boolean;
  /**
   * `SO_BROADCAST`. Deno turns it on for every UDP socket and cannot turn it
   * off: `true` (or leaving it out) is accepted, `false` is `not_supported`.
   */
  broadcast?: boolean;
  /**
   * The longest datagram received whole, in bytes (default 65536, which
   * fits every UDP datagram). A longer datagram is cut to this size and
   * received with `truncated: true`; the rest is lost.
   */
  bufferSize?: number;
  /** Multicast group(s) to join at once (lsocket's `"mcast"` sockets). */
  multicast?: string | string[];
  /** The interface of those joins: an IPv4 address, or an IPv6 interface index. */
  multicastInterface?: string | number;
  /** The TTL of multicast datagrams this socket sends (IPv4; default 1). */
  multicastTTL?: number;
}

/** The rules of {@linkcode BindOptions}. */
export const BIND_RULES: Schema = {
  hostname: { type: "string", nonEmpty: true },
  port: { type: "integer", min: 0, max: 65535 },
  reuseAddress: { type: "boolean" },
  loopback: { type: "boolean" },
  broadcast: { type: "boolean" },
  bufferSize: { type: "integer", min: 1, max: MAX_BUFFER_SIZE },
  multicast: {
    type: "custom",
    accepts: "a group address or an array of them",
    check: (value) =>
      typeof value === "string" ||
      (Array.isArray(value) && value.every((group) => typeof group === "string")),
  },
  multicastInterface: {
    type: "custom",
    accepts: "an IPv4 interface address or an IPv6 interface index",
    check: (value) =>
      typeof value === "string" ||
      (typeof value === "number" && Number.isInteger(value) && value >= 0),
  },
  multicastTTL: { type: "integer", min: 0, max: 255 },
};

/** Fails with `not_supported` when Deno runs without `--unstable-net`. */
export function requireDatagrams(op: string): void {
  if (typeof (Deno as { listenDatagram?: unknown }).listenDatagram !== "function") {
    throw new NetError(
      "not_supported",
      "Deno.listenDatagram is unavailable: run with --unstable-net " +
        '(or "unstable": ["net"] in deno.json)',
      { op },
    );
  }
}

/** Binds a socket with validated options; used by `bind` and `connect`. */
export async function openSocket(op: string, options: BindOptions): Promise<UdpSocket> {
  requireDatagrams(op);
  if (options.broadcast === false) {
    throw new NetError(
      "not_supported",
      "Deno enables SO_BROADCAST on every UDP socket and cannot disable it",
      { op, field: "broadcast" },
    );
  }
  const host = checkHost(op, options.hostname ?? "0.0.0.0");
  const port = checkPort(op, options.port ?? 0);
  const hostname = await resolveFor(op, "dual", host, "hostname");
  const groups = typeof options.multicast === "string"
    ? [options.multicast]
    : options.multicast ?? [];
  // Everything is checked before the socket exists: bad input opens nothing.
  const family = familyOf(hostname);
  for (const group of groups) {
    checkMembership(op, family, group, options.multicastInterface, undefined);
  }
  if (options.multicastTTL !== undefined && family === "v6") {
    throw new NetError(
      "not_supported",
      "Deno cannot set the IPv6 multicast hop limit; the kernel default (1) applies",
      { op, field: "multicastTTL" },
    );
  }
  const loopback = options.loopback ?? true;
  let conn: Deno.DatagramConn;
  try {
    conn = Deno.listenDatagram({
      transport: "udp",
      hostname,
      port,
      reuseAddress: options.reuseAddress ?? false,
      loopback,
    });
  } catch (error) {
    throw toNetError(error, op, hostPortLabel(hostname, port));
  }
  const socket = new UdpSocket(conn, { bufferSize: options.bufferSize ?? DEFAULT_BUFFER_SIZE });
  try {
    // Deno's `loopback` sets only the IPv6 option on a dual-stack socket.
    if (!loopback && familyOf(hostname) === "dual") await socket.setMulticastLoopback(false);
    if (options.multicastTTL !== undefined) await socket.setMulticastTTL(options.multicastTTL);
    for (const group of groups) await socket.joinMulticast(group, options.multicastInterface);
  } catch (error) {
    socket.close();
    throw error;
  }
  return socket;
}

/**
 * Binds a UDP socket (sock `udp():bind`, XPIO `socket("UDP")`+`bind`,
 * lsocket `bind("udp"|"mcast", …)`). Needs `--unstable-net`.
 *
 * @param address `"host:port"` (`":5353"`, `"[::]:0"`, …) or the options.
 * @param options More options when `address` is a string (without
 *   `hostname`/`port`).
 * @returns The bound socket.
 * @throws {NetError} `invalid_argument` (unknown option, bad address or
 *   port), `address_in_use`, `address_not_available`, `name_not_resolved`,
 *   `access_denied`, `not_supported` (no `--unstable-net`, `broadcast: false`).
 *
 * @example Bind to any free port on loopback
 * ```ts
 * import { bind } from "@netkit/netkit/udp";
 *
 * await using socket = await bind({ hostname: "127.0.0.1", port: 0 });
 * console.log(socket.addr.port > 0); // true
 * ```
 *
 * @example lsocket's "mcast": a receiver joined to a group on loopback
 * ```ts
 * import { bind } from "@netkit/netkit/udp";
 *
 * await using receiver = await bind({
 *   hostname: "0.0.0.0",
 *   port: 0,
 *   multicast: "239.255.10.4",
 *   multicastInterface: "127.0.0.1",
 * });
 * console.log(receiver.memberships.length); // 1
 * ```
 */
export async function bind(
  address?: string | BindOptions,
  options?: BindOptions,
): Promise<UdpSocket> {
  return await openSocket("bind", addressForm<BindOptions>("bind", address, options, BIND_RULES));
}
