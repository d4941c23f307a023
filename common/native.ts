/**
 * Below Deno: whether netkit's native layer is usable here, and the types of
 * the socket options it reads and sets. With `--allow-ffi` (Linux x86_64 and
 * aarch64) every netkit socket object has `fileno()`, `setOption()` and
 * `getOption()` over the whole POSIX option table, and TCP and unix streams
 * have `abort()`. Without it those answer `not_supported` naming the flag,
 * and nothing else changes: no library is opened and no prompt appears.
 *
 * @module
 */

import type { ErrorCode } from "./errors.ts";
import { nativeStatus } from "./_native/libc.ts";

/** What {@linkcode nativeSupport} reports. */
export interface NativeSupport {
  /** Whether `fileno`, the native socket options and `abort` work here. */
  available: boolean;
  /** Why not: the missing `--allow-ffi`, the platform, or the C library. */
  reason?: string;
}

/**
 * Whether the capabilities below Deno (descriptors, every socket option,
 * abortive close, the unix `backlog`) are usable in this process, and if
 * not, why. Asking never prompts: the `ffi` permission is queried, and the C
 * library is opened only when it is granted.
 *
 * @returns `{ available: true }`, or `{ available: false, reason }` with a
 *   reason that names `--allow-ffi` when that is what is missing.
 *
 * @example
 * ```ts
 * import { nativeSupport } from "@netkit/netkit";
 *
 * const support = nativeSupport();
 * console.log(support.available ? "native layer ready" : support.reason);
 * ```
 */
export function nativeSupport(): NativeSupport {
  return nativeStatus();
}

/** The peer process of a unix stream (`so_peercred`). */
export interface PeerCredentials {
  /** Its process id (as it was when it connected). */
  pid: number;
  /** Its user id. */
  uid: number;
  /** Its group id. */
  gid: number;
}

/** What `so_type` reports. */
export type SocketType = "stream" | "dgram" | "raw" | "seqpacket";

/**
 * Every socket option name with the type of its value. Which sockets each
 * applies to is in the guide (docs/native.md); a name that does not apply to
 * the object is `invalid_argument`.
 */
export interface SocketOptionValues {
  /** Receive buffer, bytes (the kernel reports twice what was set, on Linux). */
  so_rcvbuf: number;
  /** Send buffer, bytes (reported doubled, on Linux). */
  so_sndbuf: number;
  /** TCP keep-alive probes on or off. */
  so_keepalive: boolean;
  /** SO_REUSEADDR. */
  so_reuseaddr: boolean;
  /** SO_REUSEPORT. */
  so_reuseport: boolean;
  /** UDP broadcast allowed. */
  so_broadcast: boolean;
  /** `null` (off) or whole seconds; `0` makes `close()` reset a TCP peer. */
  so_linger: number | null;
  /** Read-only: the pending error as a netkit code, or `null` (reading clears it). */
  so_error: ErrorCode | null;
  /** Read-only: the socket type. */
  so_type: SocketType;
  /** Read-only: whether the socket listens. */
  so_acceptconn: boolean;
  /** Read-only: the peer process of a unix stream. */
  so_peercred: PeerCredentials;
  /** Nagle's algorithm off (works without `--allow-ffi` on TCP streams). */
  tcp_nodelay: boolean;
  /** Idle seconds before the first keep-alive probe. */
  tcp_keepidle: number;
  /** Seconds between keep-alive probes. */
  tcp_keepintvl: number;
  /** Unanswered probes before the connection is dropped. */
  tcp_keepcnt: number;
  /** Milliseconds sent data may stay unacknowledged before the connection is dropped. */
  tcp_user_timeout: number;
  /** The congestion control algorithm, e.g. `"cubic"`. */
  tcp_congestion: string;
  /** IPv4 time to live of unicast packets. */
  ip_ttl: number;
  /** IPv4 type of service byte. */
  ip_tos: number;
  /** IPv6 hop limit of unicast packets (`-1`: the route's default). */
  ipv6_unicast_hops: number;
  /** IPv6 only (no IPv4-mapped traffic); settable before bind only. */
  ipv6_v6only: boolean;
  /** IPv4 multicast time to live. */
  ip_multicast_ttl: number;
  /** IPv4 multicast loopback. */
  ip_multicast_loop: boolean;
  /** IPv4 multicast interface, by its address (`"0.0.0.0"`: the kernel picks). */
  ip_multicast_if: string;
  /** IPv6 multicast hop limit (`-1`: the default). */
  ipv6_multicast_hops: number;
  /** IPv6 multicast loopback. */
  ipv6_multicast_loop: boolean;
  /** IPv6 multicast interface, by its index (0: the kernel picks). */
  ipv6_multicast_if: number;
  /** Read-only `true`: Deno's reactor needs non-blocking descriptors. */
  o_nonblock: boolean;
}

/** A socket option name, lower case, as POSIX spells it. */
export type SocketOptionName = keyof SocketOptionValues;

/** The options that can only be read. */
export type ReadOnlyOptionName =
  | "so_error"
  | "so_type"
  | "so_acceptconn"
  | "so_peercred"
  | "o_nonblock";

/** The options `setOption` takes. */
export type WritableOptionName = Exclude<SocketOptionName, ReadOnlyOptionName>;
