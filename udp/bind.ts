/**
 * `bind`: a UDP socket on a local address.
 *
 * @module
 */

import { addressForm } from "../common/_address.ts";
import { BIND_RULES, openSocket } from "./_open.ts";
import type { UdpSocket } from "./socket.ts";

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
   * `SO_BROADCAST` (default true: Deno turns it on for every UDP socket).
   * `false` clears it through the C library, so sends to a broadcast
   * address fail `access_denied`; that needs `--allow-ffi` (without it,
   * `false` is `not_supported` naming the flag).
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
  /**
   * The interface of those joins, and (with `--allow-ffi`) the one the
   * socket's own multicast datagrams go out on (`IP_MULTICAST_IF` /
   * `IPV6_MULTICAST_IF`): an IPv4 address, or an IPv6 interface index.
   * Without `--allow-ffi` it serves the joins only, and without a join it is
   * `not_supported` naming the flag.
   */
  multicastInterface?: string | number;
  /**
   * The TTL (IPv6: hop limit) of multicast datagrams this socket sends
   * (default 1). On an IPv6 socket it needs `--allow-ffi`.
   */
  multicastTTL?: number;
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
 *   `access_denied`, `not_supported` (no `--unstable-net`; `broadcast: false`,
 *   an IPv6 `multicastTTL` or a sending `multicastInterface` without `--allow-ffi`).
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
 *
 * @example A socket that may not broadcast (with `--allow-ffi`)
 * ```ts
 * import { bind } from "@netkit/netkit/udp";
 *
 * await using socket = await bind({ hostname: "127.0.0.1", port: 0, broadcast: false });
 * console.log(socket.getOption("so_broadcast")); // false
 * ```
 */
export async function bind(
  address?: string | BindOptions,
  options?: BindOptions,
): Promise<UdpSocket> {
  return await openSocket("bind", addressForm<BindOptions>("bind", address, options, BIND_RULES));
}
