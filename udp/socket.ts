/**
 * The UDP socket: send, send to, receive with deadlines that lose nothing,
 * "connected" sockets (the kernel's with `--allow-ffi`, a userland filter
 * without) and multicast.
 *
 * @module
 */

import { isIP } from "node:net";
import {
  checkHost,
  checkPort,
  describeAddress,
  hostPortLabel,
  stripBrackets,
} from "../common/_address.ts";
import { type Deadline, deadlineOf } from "../common/_deadline.ts";
import type { DeadlineOptions } from "../common/deadline.ts";
import { closedError, toNetError } from "../common/_errors.ts";
import { NetError } from "../common/errors.ts";
import { invalidArgument, validateArgument } from "../common/_options.ts";
import {
  checkMembership,
  checkSendInterface,
  type Destination,
  destination,
  type Family,
  familyOf,
  isMulticast,
  resolveFor,
} from "./_address.ts";
import { toBytes } from "../common/_bytes.ts";
import { DatagramSocket, type ReceiveOptions } from "./datagram.ts";
import { MulticastMembership } from "./multicast.ts";
import { idle, native, nativeStatus } from "../common/_native/libc.ts";
import { ErrorWatcher, isSendError, kernelConnect, kernelDisconnect } from "./_connected.ts";

/** One received UDP datagram. */
export interface UdpDatagram {
  /** The payload (zero-length for an empty datagram); the caller owns it. */
  data: Uint8Array;
  /** The sender's IP; an IPv4 sender of a dual-stack socket in IPv4 form. */
  hostname: string;
  /** The sender's port. */
  port: number;
  /**
   * True when the datagram was longer than the socket's `bufferSize` and
   * `data` holds only its first `bufferSize` bytes (the rest is lost).
   */
  truncated: boolean;
}

/** How {@linkcode UdpSocket} is made (by `bind`/`connect`, not by user code). */
export interface UdpSocketInit {
  /** The receive buffer size: the longest datagram received whole. */
  bufferSize: number;
}

interface Peer {
  hostname: string;
  port: number;
  dest: Destination;
  filter: boolean;
}

/** All-hosts groups every host is in already: joined and left only to reach Deno's option setters. */
const ALL_HOSTS_V4 = "224.0.0.1";
const ALL_NODES_V6 = "ff02::1";
const LOOPBACK_INDEX = 1;

/**
 * A UDP socket (made by {@linkcode bind} or {@linkcode connect}).
 *
 * One receive is outstanding at a time, into an internal buffer: a
 * `receive()` that times out loses no datagram (the next call gets it), and
 * datagrams come out in arrival order. A "connected" socket (sock's UDP
 * `connect`) sends to its peer by default and drops datagrams from anyone
 * else; Deno has no `connect(2)` for UDP, so the filter is netkit's.
 *
 * @example Send and receive on loopback
 * ```ts
 * import { bind } from "@netkit/netkit/udp";
 *
 * await using server = await bind({ hostname: "127.0.0.1", port: 0 });
 * await using client = await bind({ hostname: "127.0.0.1", port: 0 });
 * await client.sendTo("ping", "127.0.0.1", server.addr.port);
 * const { data, port } = await server.receive({ timeout: 1000 });
 * await server.sendTo(data, "127.0.0.1", port);
 * console.log(new TextDecoder().decode((await client.receive()).data)); // "ping"
 * ```
 */
export class UdpSocket extends DatagramSocket<UdpDatagram> {
  #conn: Deno.DatagramConn;
  #addr: Deno.NetAddr;
  #family: Family;
  #label: string | undefined;
  #peer: Peer | null = null;
  #lastHost: string | undefined;
  #lastPort = -1;
  #lastDest: Destination | undefined;
  #memberships: MulticastMembership[] = [];
  #v4Options: Deno.MulticastV4Membership | null = null;
  #v6Options: Deno.MulticastV6Membership | null = null;
  /** True while connect(2) holds on the descriptor (with `--allow-ffi`). */
  #kernelConnected = false;
  /** The error watcher, made at the first kernel connect. */
  #watcher: ErrorWatcher | null = null;
  #watcherClosed: Promise<void> | undefined;

  /**
   * Wraps a bound `Deno.DatagramConn`. Use {@linkcode bind} or
   * {@linkcode connect}; user code rarely calls this.
   *
   * @param conn A socket from `Deno.listenDatagram({ transport: "udp" })`.
   * @param init The receive buffer size.
   */
  constructor(conn: Deno.DatagramConn, init: UdpSocketInit) {
    const addr = conn.addr as Deno.NetAddr;
    const label = describeAddress(addr);
    super(conn, init.bufferSize, label);
    this.#conn = conn;
    this.#addr = addr;
    this.#family = familyOf(addr.hostname);
    this.#label = label;
  }

  /** The sender's address, with a dual-stack socket's `::ffff:` IPv4 senders in their IPv4 form. */
  protected decode(data: Uint8Array, from: Deno.Addr, truncated: boolean): UdpDatagram {
    let hostname = (from as Deno.NetAddr).hostname;
    if (this.#family === "dual" && hostname.startsWith("::ffff:") && hostname.includes(".")) {
      hostname = hostname.slice(7);
    }
    return { data, hostname, port: (from as Deno.NetAddr).port, truncated };
  }

  /** A connected socket hands out only its peer's datagrams. */
  protected override accepts(datagram: UdpDatagram): boolean {
    const peer = this.#peer;
    return peer === null || !peer.filter ||
      (datagram.port === peer.port && datagram.hostname === peer.hostname);
  }

  /** The local address (`port` is the one the kernel picked for port 0). */
  get addr(): Deno.NetAddr {
    return this.#addr;
  }

  /** The peer of a connected socket, or `null`. */
  get remoteAddr(): Deno.NetAddr | null {
    return this.#peer === null ? null : { ...this.#peer.dest.addr };
  }

  /** The multicast groups this socket has joined and not left. */
  get memberships(): readonly MulticastMembership[] {
    return this.#memberships.filter((membership) => !membership.left);
  }

  /**
   * Makes this a connected socket: `send` goes to `host:port`, and only
   * datagrams from there are received (others are dropped). Calling it
   * again re-targets; {@linkcode UdpSocket.disconnect} undoes it. A host
   * name is resolved once, here. For a multicast group nothing is filtered
   * (no datagram ever comes from a group address).
   *
   * With `--allow-ffi` this is the kernel's connect(2) (sock's and lsocket's
   * connected UDP): the kernel filters, and when a datagram sent to the peer
   * comes back as an ICMP error (nothing listens on that port), the next
   * `receive` — or the one waiting — rejects `connection_refused`
   * (`host_unreachable` when the kernel says so), or the next `send` if it
   * comes first: the error is reported once. Without `--allow-ffi` (or for a
   * socket whose descriptor cannot be told apart from another's) netkit
   * filters in userland and no ICMP error is seen.
   *
   * @param host The peer's IP or host name (`"::ffff:a.b.c.d"` equals `"a.b.c.d"`).
   * @param port The peer's port, 1..65535.
   * @param options `{ timeout, signal }` for the name resolution.
   * @throws {NetError} `invalid_argument` (bad host/port, or a family this
   *   socket cannot reach), `name_not_resolved`, `closed`, `timeout`,
   *   `aborted`; `host_unreachable` when the kernel has no route there.
   *
   * @example Only the peer gets through
   * ```ts
   * import { bind } from "@netkit/netkit/udp";
   *
   * await using a = await bind({ hostname: "127.0.0.1", port: 0 });
   * await using b = await bind({ hostname: "127.0.0.1", port: 0 });
   * await a.connect("127.0.0.1", b.addr.port);
   * await a.send("hi");
   * console.log((await b.receive()).port === a.addr.port); // true
   * ```
   *
   * @example Nobody listens: the receive says so (with `--allow-ffi`)
   * ```ts
   * import { bind, NetError } from "@netkit/netkit/udp";
   *
   * const closed = await bind({ hostname: "127.0.0.1", port: 0 });
   * const port = closed.addr.port;
   * closed.close();
   * await using socket = await bind({ hostname: "127.0.0.1", port: 0 });
   * await socket.connect("127.0.0.1", port);
   * await socket.send("anyone?");
   * const code = await socket.receive({ timeout: 2000 }).catch((e: NetError) => e.code);
   * console.log(code); // "connection_refused"
   * ```
   */
  async connect(host: string, port: number, options?: DeadlineOptions): Promise<void> {
    using deadline = deadlineOf("connect", options, this.#label);
    this.checkOpen("connect");
    const dest = await this.#destination("connect", host, port, deadline);
    this.checkOpen("connect");
    const hostname = dest.addr.hostname;
    const multicast = isMulticast(hostname);
    if (multicast) {
      if (this.#kernelConnected) this.#disconnectKernel("connect");
    } else {
      this.#connectKernel(hostname, port);
    }
    this.#peer = { hostname, port, dest, filter: !multicast };
    this.refilter();
  }

  /**
   * connect(2) on the descriptor when the native layer is there; without it
   * (or when the descriptor cannot be identified) the userland filter alone.
   */
  #connectKernel(hostname: string, port: number): void {
    if (!nativeStatus().available) return;
    const op = "connect";
    let fd: number;
    try {
      fd = this.descriptor(op, "connect");
    } catch (error) {
      idle();
      if (error instanceof NetError && error.code === "not_supported") {
        if (this.#kernelConnected) this.#disconnectKernel(op);
        return;
      }
      throw error;
    }
    const n = native(op, "connect");
    try {
      kernelConnect(n, fd, this.#family, hostname, port, op, hostPortLabel(hostname, port));
    } finally {
      idle();
    }
    this.#kernelConnected = true;
    this.#watcher ??= new ErrorWatcher(
      () => ({ n: native("receive", "receive"), fd: this.descriptor("receive", "receive") }),
      (failure) => this.failReceive(failure),
      () => this.#peer === null ? undefined : describeAddress(this.#peer.dest.addr),
      this.#label,
    );
    // The watcher runs once a receive waits (a socket that only sends needs none).
    this.watchFailures(this.#startWatcher);
  }

  #startWatcher = (): void => {
    this.#watcher!.start();
  };

  /** Dissolves the kernel's connection (AF_UNSPEC) and keeps the socket's own port. */
  #disconnectKernel(op: string): void {
    this.#kernelConnected = false;
    this.#watcher?.stop();
    this.watchFailures(null);
    const fd = this.descriptor(op, op);
    const n = native(op, op);
    try {
      kernelDisconnect(n, fd, this.#family, this.#addr, op, this.#label);
    } finally {
      idle();
    }
  }

  /**
   * Returns to unconnected mode: datagrams from anyone are received again and
   * `send` needs a destination (`sendTo`). A kernel-connected socket keeps
   * its local port (Linux would drop one it chose itself: netkit binds it
   * again).
   *
   * @throws {NetError} `address_in_use` in the rare case that another socket
   *   took the port in between (the socket is then unconnected, unbound).
   *
   * @example
   * ```ts
   * import { connect } from "@netkit/netkit/udp";
   *
   * await using socket = await connect("127.0.0.1", 9);
   * socket.disconnect();
   * console.log(socket.remoteAddr); // null
   * ```
   */
  disconnect(): void {
    this.#peer = null;
    if (this.#kernelConnected && !this.closed) this.#disconnectKernel("disconnect");
  }

  /** The failure the error watcher kept for the next receive, reported by a send that comes first. */
  #sendFailure(op: string): void {
    if (!this.#kernelConnected) return;
    const failure = this.claimFailure(isSendError);
    if (failure !== undefined) {
      throw new NetError(failure.code, failure.detail, {
        op,
        address: failure.address,
        cause: failure.cause,
      });
    }
  }

  /**
   * Closes the socket. A waiting `receive` rejects `closed`. Closing twice
   * is harmless.
   *
   * @example
   * ```ts
   * import { connect } from "@netkit/netkit/udp";
   *
   * const socket = await connect("127.0.0.1", 9);
   * socket.close();
   * socket.close();
   * console.log(socket.closed); // true
   * ```
   */
  override close(): void {
    // The watcher's wait ends before the descriptor is closed under it.
    if (this.#watcher !== null) this.#watcherClosed ??= this.#watcher.close();
    super.close();
  }

  /**
   * As {@linkcode DatagramSocket.receive}; on a socket that has had an
   * error watcher, a receive that fails because the socket closed settles
   * once the watcher let go, so awaiting it leaves nothing running.
   *
   * @param options `{ timeout, signal, peek }`.
   * @returns The next datagram from the peer (or from anyone, unconnected).
   * @throws {NetError} as {@linkcode DatagramSocket.receive}.
   *
   * @example
   * ```ts
   * import { bind, connect } from "@netkit/netkit/udp";
   *
   * await using server = await bind({ hostname: "127.0.0.1", port: 0 });
   * await using client = await connect("127.0.0.1", server.addr.port);
   * await client.send("ping");
   * const request = await server.receive({ timeout: 1000 });
   * await server.sendTo("pong", request.hostname, request.port);
   * console.log((await client.receive({ timeout: 1000 })).data.length); // 4
   * ```
   */
  override receive(options?: ReceiveOptions): Promise<UdpDatagram> {
    const receiving = super.receive(options);
    return this.#watcher === null ? receiving : receiving.catch(this.#afterWatcher);
  }

  #afterWatcher = async (error: unknown): Promise<never> => {
    if (this.closed) await this.#watcherClosed;
    throw error;
  };

  /** Closes the socket and waits until the runtime (and the error watcher) let go of it. */
  override async [Symbol.asyncDispose](): Promise<void> {
    this.close();
    await super[Symbol.asyncDispose]();
    await this.#watcherClosed;
  }

  /** Checks a destination and resolves a host name (no lookup for IP literals). */
  async #destination(
    op: string,
    host: string,
    port: number,
    deadline: Deadline | undefined,
  ): Promise<Destination> {
    if (typeof host !== "string" || host === "") {
      throw invalidArgument(op, "host", "an IP address or a host name", host);
    }
    checkPort(op, port, "port", 1);
    const bare = stripBrackets(host);
    if (isIP(bare) !== 0) return destination(op, this.#family, bare, port, "host", this.#label);
    // A malformed name is bad input whatever the deadline: checked first.
    const name = checkHost(op, bare, "host");
    const lookup = resolveFor(op, this.#family, name, "host");
    const ip = await (deadline === undefined ? lookup : deadline.wait(lookup));
    return destination(op, this.#family, ip, port, "host", this.#label);
  }

  async #sendTo(
    op: string,
    bytes: Uint8Array,
    dest: Destination,
    deadline: Deadline | undefined,
  ): Promise<number> {
    if (bytes.length > dest.max) {
      throw new NetError(
        "invalid_argument",
        `a datagram to ${dest.addr.hostname} carries at most ${dest.max} bytes (got ${bytes.length})`,
        { op, address: describeAddress(dest.addr), field: "data" },
      );
    }
    const sending = this.#conn.send(bytes, dest.addr);
    try {
      return await (deadline === undefined ? sending : deadline.wait(sending));
    } catch (error) {
      if (this.closed) throw closedError(op, this.#label);
      throw toNetError(error, op, describeAddress(dest.addr));
    }
  }

  /**
   * Sends one datagram to the connected peer.
   *
   * @param data Bytes, or a string (UTF-8 encoded); may be empty.
   * @param options `{ timeout, signal }`; a send that times out may still go out.
   * @returns How many bytes were sent.
   * @throws {NetError} `invalid_argument` when not connected (use `sendTo`)
   *   or when `data` is longer than 65507 bytes (IPv4) / 65527 (IPv6);
   *   `closed`, `timeout`, `aborted`.
   *
   * @example
   * ```ts
   * import { bind, connect } from "@netkit/netkit/udp";
   *
   * await using server = await bind({ hostname: "127.0.0.1", port: 0 });
   * await using client = await connect("127.0.0.1", server.addr.port);
   * console.log(await client.send("hello")); // 5
   * ```
   */
  async send(data: Uint8Array | string, options?: DeadlineOptions): Promise<number> {
    const bytes = toBytes("send", data);
    using deadline = deadlineOf("send", options, this.#label);
    this.checkOpen("send");
    this.#sendFailure("send");
    if (this.#peer === null) {
      throw new NetError(
        "invalid_argument",
        "the socket is not connected: use sendTo(data, host, port), or connect(host, port) first",
        { op: "send", address: this.#label },
      );
    }
    return await this.#sendTo("send", bytes, this.#peer.dest, deadline);
  }

  /**
   * Sends one datagram to `host:port`, connected or not (sock's `sendto`).
   *
   * @param data Bytes, or a string (UTF-8 encoded); may be empty.
   * @param host An IP address or a host name (resolved on each call).
   * @param port The destination port, 1..65535.
   * @param options `{ timeout, signal }`; a send that times out may still go out.
   * @returns How many bytes were sent.
   * @throws {NetError} `invalid_argument` for a bad host or port, a family
   *   this socket cannot reach (IPv6 from an IPv4 socket) or a payload over
   *   65507 bytes (IPv4) / 65527 (IPv6); `name_not_resolved`, `closed`,
   *   `timeout`, `aborted`.
   *
   * @example
   * ```ts
   * import { bind } from "@netkit/netkit/udp";
   *
   * await using a = await bind("127.0.0.1:0");
   * await using b = await bind("127.0.0.1:0");
   * await a.sendTo(new Uint8Array([1, 2, 3]), "127.0.0.1", b.addr.port);
   * console.log((await b.receive()).data); // Uint8Array(3) [ 1, 2, 3 ]
   * ```
   */
  async sendTo(
    data: Uint8Array | string,
    host: string,
    port: number,
    options?: DeadlineOptions,
  ): Promise<number> {
    const bytes = toBytes("sendTo", data);
    using deadline = deadlineOf("sendTo", options, this.#label);
    this.checkOpen("sendTo");
    this.#sendFailure("sendTo");
    let dest: Destination;
    if (host === this.#lastHost && port === this.#lastPort) {
      dest = this.#lastDest!;
    } else {
      dest = await this.#destination("sendTo", host, port, deadline);
      if (isIP(host) !== 0) {
        // Literals are remembered: a reply loop skips the checks.
        this.#lastHost = host;
        this.#lastPort = port;
        this.#lastDest = dest;
      }
    }
    return await this.#sendTo("sendTo", bytes, dest, deadline);
  }

  /**
   * Joins a multicast group (lsocket's `"mcast"` server side). Receiving the
   * group's datagrams also needs the socket bound to the group's port (bind
   * `"0.0.0.0"` or the group address).
   *
   * @param group An IPv4 (224.0.0.0/4) or IPv6 (ff00::/8) group address.
   * @param iface For an IPv4 group, the interface's IPv4 address (e.g.
   *   `"127.0.0.1"`); for an IPv6 group, its index. Left out, the kernel picks
   *   (usually not loopback).
   * @returns The membership; `leave()` it, or close the socket.
   * @throws {NetError} `invalid_argument` (not a group, wrong family, bad
   *   interface), `address_not_available` (no such interface), `closed`.
   *
   * @example Receive a group's datagrams on the loopback interface
   * ```ts
   * import { bind } from "@netkit/netkit/udp";
   *
   * await using receiver = await bind({ hostname: "0.0.0.0", port: 0 });
   * await receiver.joinMulticast("239.255.10.3", "127.0.0.1");
   * await using sender = await bind({ hostname: "127.0.0.1", port: 0 });
   * await sender.sendTo("to all", "239.255.10.3", receiver.addr.port);
   * console.log((await receiver.receive({ timeout: 1000 })).data.length); // 6
   * ```
   */
  async joinMulticast(group: string, iface?: string | number): Promise<MulticastMembership> {
    const op = "joinMulticast";
    this.checkOpen(op);
    const { v4, iface: chosen } = checkMembership(op, this.#family, group, iface, this.#label);
    let membership: Deno.MulticastV4Membership | Deno.MulticastV6Membership;
    try {
      if (v4) {
        const joined = await this.#conn.joinMulticastV4(group, chosen as string);
        this.#v4Options ??= joined;
        membership = joined;
      } else {
        const joined = await this.#conn.joinMulticastV6(group, chosen as number);
        this.#v6Options ??= joined;
        membership = joined;
      }
    } catch (error) {
      if (this.closed) throw closedError(op, this.#label);
      throw toNetError(error, op, this.#label);
    }
    const result = new MulticastMembership(
      group,
      chosen,
      () => membership.leave(),
      () => this.closed,
      this.#label,
    );
    this.#memberships.push(result);
    return result;
  }

  /**
   * Deno sets the multicast options only through a membership's setters,
   * which act on the whole socket and keep working after `leave()`. A socket
   * that joined nothing gets them by joining and at once leaving the
   * all-hosts group (224.0.0.1 / ff02::1) on loopback: every host is in it
   * already, so nothing changes on the wire or in what the socket receives.
   */
  async #setters(op: string, v4: boolean): Promise<
    Deno.MulticastV4Membership | Deno.MulticastV6Membership
  > {
    const existing = v4 ? this.#v4Options : this.#v6Options;
    if (existing !== null) return existing;
    try {
      if (v4) {
        const joined = await this.#conn.joinMulticastV4(ALL_HOSTS_V4, "127.0.0.1");
        await joined.leave();
        return this.#v4Options ??= joined;
      }
      const joined = await this.#conn.joinMulticastV6(ALL_NODES_V6, LOOPBACK_INDEX);
      await joined.leave();
      return this.#v6Options ??= joined;
    } catch (error) {
      if (this.closed) throw closedError(op, this.#label);
      throw new NetError(
        "not_supported",
        `Deno sets multicast options only through a group membership, and none could be made: ${
          (error as Error).message
        }`,
        { op, address: this.#label, cause: error },
      );
    }
  }

  /**
   * Sets the TTL (hop limit) of the multicast datagrams this socket sends
   * (`IP_MULTICAST_TTL`, default 1: the local network only). On an IPv6
   * socket it is the hop limit (`IPV6_MULTICAST_HOPS`), which Deno cannot
   * set: that needs `--allow-ffi`. A dual-stack `"::"` socket sets both when
   * `--allow-ffi` is granted, the IPv4 TTL otherwise.
   *
   * @param ttl 0..255 (0: this host only).
   * @throws {NetError} `not_supported` on an IPv6-only socket without
   *   `--allow-ffi` (the message names the flag); `invalid_argument`, `closed`.
   *
   * @example
   * ```ts
   * import { bind } from "@netkit/netkit/udp";
   *
   * await using sender = await bind({ hostname: "127.0.0.1", port: 0 });
   * await sender.setMulticastTTL(4);
   * ```
   *
   * @example The IPv6 hop limit (with `--allow-ffi`)
   * ```ts
   * import { bind } from "@netkit/netkit/udp";
   *
   * await using sender = await bind({ hostname: "::1", port: 0 });
   * await sender.setMulticastTTL(3);
   * console.log(sender.getOption("ipv6_multicast_hops")); // 3
   * ```
   */
  async setMulticastTTL(ttl: number): Promise<void> {
    const op = "setMulticastTTL";
    validateArgument(op, "ttl", ttl, { type: "integer", min: 0, max: 255 });
    this.checkOpen(op);
    if (this.#family === "v6") {
      this.#natively(op, "the IPv6 multicast hop limit", () => {
        this.setOption("ipv6_multicast_hops", ttl);
      });
      return;
    }
    const setters = await this.#setters(op, true) as Deno.MulticastV4Membership;
    try {
      await setters.setTTL(ttl);
    } catch (error) {
      throw this.closed ? closedError(op, this.#label) : toNetError(error, op, this.#label);
    }
    if (this.#family === "dual" && nativeStatus().available) {
      this.#natively(op, "the IPv6 multicast hop limit", () => {
        this.setOption("ipv6_multicast_hops", ttl);
      });
    }
  }

  /**
   * Chooses the interface the multicast datagrams this socket sends go out
   * on (`IP_MULTICAST_IF` / `IPV6_MULTICAST_IF`; lsocket's `"mcast"`
   * interface, node's `setMulticastInterface`). Needs `--allow-ffi` (Deno
   * has no setter).
   *
   * @param iface For IPv4 groups the interface's IPv4 address (`"0.0.0.0"`:
   *   the kernel picks again); for IPv6 groups its index (0: the kernel picks).
   *   A dual-stack socket takes either.
   * @throws {NetError} `invalid_argument` (field `iface`: the wrong kind for
   *   this socket's family), `address_not_available` (no such interface),
   *   `not_supported` without `--allow-ffi` (the message names the flag), `closed`.
   *
   * @example Send multicast out the loopback interface (with `--allow-ffi`)
   * ```ts
   * import { bind } from "@netkit/netkit/udp";
   *
   * await using sender = await bind({ hostname: "0.0.0.0", port: 0 });
   * await sender.setMulticastInterface("127.0.0.1");
   * console.log(sender.getOption("ip_multicast_if")); // "127.0.0.1"
   * ```
   */
  // deno-lint-ignore require-await
  async setMulticastInterface(iface: string | number): Promise<void> {
    const op = "setMulticastInterface";
    checkSendInterface(op, "iface", this.#family, iface);
    this.checkOpen(op);
    this.#natively(op, "choosing the multicast interface", () => {
      if (typeof iface === "string") this.setOption("ip_multicast_if", iface);
      else this.setOption("ipv6_multicast_if", iface);
    });
  }

  /** Runs an option call below Deno for `op`: its failures are `op`'s. */
  #natively(op: string, what: string, work: () => void): void {
    const status = nativeStatus();
    if (!status.available) {
      throw new NetError("not_supported", `${what} ${status.reason}`, { op, address: this.#label });
    }
    try {
      work();
    } catch (error) {
      if (!(error instanceof NetError)) throw error;
      throw new NetError(error.code, error.detail, { op, address: this.#label, cause: error });
    }
  }

  /**
   * Sets whether the multicast datagrams this socket sends are also
   * delivered to group members on this host (`IP_MULTICAST_LOOP`; netkit's
   * default is the OS default, true). A dual-stack socket sets it for IPv4
   * and IPv6. Datagrams sent out the loopback interface itself reach local
   * members whatever this says: the interface loops everything it sends.
   *
   * @param on True to loop back.
   * @throws {NetError} `invalid_argument`, `closed`, `not_supported` when
   *   Deno could not make the membership its setter needs.
   *
   * @example
   * ```ts
   * import { bind } from "@netkit/netkit/udp";
   *
   * await using sender = await bind({ hostname: "127.0.0.1", port: 0 });
   * await sender.setMulticastLoopback(false);
   * ```
   */
  async setMulticastLoopback(on: boolean): Promise<void> {
    const op = "setMulticastLoopback";
    validateArgument(op, "on", on, { type: "boolean" });
    this.checkOpen(op);
    const families = this.#family === "dual" ? [true, false] : [this.#family === "v4"];
    for (const v4 of families) {
      const setters = await this.#setters(op, v4);
      try {
        await setters.setLoopback(on);
      } catch (error) {
        throw this.closed ? closedError(op, this.#label) : toNetError(error, op, this.#label);
      }
    }
  }
}
