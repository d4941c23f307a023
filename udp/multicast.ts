/**
 * Multicast group membership of a UDP socket (lsocket's `"mcast"` sockets).
 *
 * @module
 */

import { toNetError } from "../common/_errors.ts";

/**
 * A socket's membership of one multicast group, made by
 * {@linkcode UdpSocket.joinMulticast} or the `multicast` option of
 * {@linkcode bind}. Leaving twice, or after the socket closed, is harmless.
 *
 * @example Join a group on the loopback interface, then leave it
 * ```ts
 * import { bind } from "@netkit/netkit/udp";
 *
 * await using socket = await bind({ hostname: "0.0.0.0", port: 0 });
 * const membership = await socket.joinMulticast("239.255.10.1", "127.0.0.1");
 * console.log(membership.group, membership.left); // "239.255.10.1" false
 * await membership.leave();
 * await membership.leave(); // harmless
 * console.log(membership.left); // true
 * ```
 */
export class MulticastMembership {
  /** The group address. */
  readonly group: string;
  /** The interface: an IPv4 address for an IPv4 group, an index for an IPv6 group. */
  readonly iface: string | number;
  #leave: () => Promise<void>;
  #socketClosed: () => boolean;
  #left = false;
  #label: string | undefined;

  /**
   * Made by `UdpSocket.joinMulticast`; user code does not call this.
   *
   * @param group The group address.
   * @param iface The interface address or index.
   * @param leave Leaves the group (Deno's membership `leave`).
   * @param socketClosed Tells whether the socket is closed (the kernel then
   *   dropped the membership already).
   * @param label The socket's address, for errors.
   */
  constructor(
    group: string,
    iface: string | number,
    leave: () => Promise<void>,
    socketClosed: () => boolean,
    label?: string,
  ) {
    this.group = group;
    this.iface = iface;
    this.#leave = leave;
    this.#socketClosed = socketClosed;
    this.#label = label;
  }

  /** True once left (or once the socket closed). */
  get left(): boolean {
    return this.#left || this.#socketClosed();
  }

  /**
   * Leaves the group. Twice, or after the socket closed, does nothing.
   *
   * @returns Resolves once the kernel dropped the membership.
   * @throws {NetError} What the kernel reported (rare).
   *
   * @example
   * ```ts
   * import { bind } from "@netkit/netkit/udp";
   *
   * await using socket = await bind({ hostname: "0.0.0.0", port: 0 });
   * const membership = await socket.joinMulticast("239.255.10.2", "127.0.0.1");
   * await membership.leave();
   * console.log(socket.memberships.length); // 0
   * ```
   */
  async leave(): Promise<void> {
    if (this.left) return;
    this.#left = true;
    try {
      await this.#leave();
    } catch (error) {
      if (this.#socketClosed()) return;
      throw toNetError(error, "leaveMulticast", this.#label);
    }
  }
}
