/**
 * Raw IP sockets and unprivileged ICMP "ping" sockets (sock's `raw`),
 * through the native layer's datagram engine: `bindRaw` → `RawSocket`.
 *
 * @module
 */

import { getOptionAt, setOptionAt } from "../common/_native/ops.ts";
import { isIP } from "node:net";
import { checkHost, stripBrackets } from "../common/_address.ts";
import { type Deadline, deadlineOf } from "../common/_deadline.ts";
import type { DeadlineOptions } from "../common/deadline.ts";
import { closedError, toNetError } from "../common/_errors.ts";
import { NetError } from "../common/errors.ts";
import { invalidArgument, type Schema, validateOptions } from "../common/_options.ts";
import { toBytes } from "../common/_bytes.ts";
import type { SocketOptionName, SocketOptionValues, WritableOptionName } from "../common/native.ts";
import { type DatagramEngine, openDatagram } from "../common/_native/datagram.ts";
import { encodeSockaddr } from "../common/_native/descriptor.ts";
import type { NativeSocket } from "../common/_native/socket.ts";
import { resolveFor } from "./_address.ts";
import { DatagramSocket } from "./datagram.ts";
import { DEFAULT_BUFFER_SIZE, MAX_BUFFER_SIZE } from "./_open.ts";

/** Options of {@linkcode bindRaw}. */
export interface BindRawOptions {
  /** `"inet"` (IPv4, the default) or `"inet6"`. */
  family?: "inet" | "inet6";
  /**
   * The IP protocol: `"icmp"` (1, the IPv4 default), `"icmpv6"` (58, the
   * IPv6 default), or any protocol number 0–255 (e.g. 17 for UDP).
   */
  protocol?: "icmp" | "icmpv6" | number;
  /** The local address to bind (an IP of the family, or a host name); unset: any. */
  hostname?: string;
  /**
   * True: an unprivileged ICMP "ping" socket (SOCK_DGRAM with ICMP or
   * ICMPv6) instead of a raw one. Allowed where the caller's group is in
   * `net.ipv4.ping_group_range`; only ICMP echo requests can be sent, the
   * kernel sets their identifier and checksum and hands this socket only
   * the replies to it, without the IP header.
   */
  ping?: boolean;
  /** The longest datagram received whole, in bytes (default 65536). */
  bufferSize?: number;
}

/** One datagram received by a {@linkcode RawSocket}. */
export interface RawDatagram {
  /**
   * The bytes as the kernel gives them: on an IPv4 raw socket they start
   * with the IP header (20 bytes or more: `(data[0] & 15) * 4`); IPv6 raw
   * sockets and ping sockets give the payload only (the ICMP message).
   */
  data: Uint8Array;
  /** The sender's IP address. */
  hostname: string;
  /** True when the datagram was longer than `bufferSize` and was cut. */
  truncated: boolean;
}

const PROTOCOLS: Record<string, number> = { icmp: 1, icmpv6: 58 };
const IPPROTO_ICMP = 1;
const IPPROTO_ICMPV6 = 58;

const BIND_RAW_RULES: Schema = {
  family: { type: "string", values: ["inet", "inet6"] },
  protocol: {
    type: "custom",
    accepts: '"icmp", "icmpv6" or a protocol number from 0 to 255',
    check: (value) =>
      value === "icmp" || value === "icmpv6" ||
      (typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= 255),
  },
  hostname: { type: "string", nonEmpty: true },
  ping: { type: "boolean" },
  bufferSize: { type: "integer", min: 1, max: MAX_BUFFER_SIZE },
};

/** Why a ping socket was refused: the range the kernel allows, read if it can be. */
function pingRangeHint(): string {
  let range = "";
  try {
    range = Deno.readTextFileSync("/proc/sys/net/ipv4/ping_group_range").trim().replace(/\s+/, " ");
  } catch {
    // Without --allow-read the hint stays general.
  }
  return "ping sockets are allowed only to groups in net.ipv4.ping_group_range" +
    (range === "" ? "" : ` (here "${range}")`) +
    '; widen it (sysctl -w net.ipv4.ping_group_range="0 2147483647") or use a raw socket as root';
}

/**
 * A raw IP socket or an ICMP ping socket (made by {@linkcode bindRaw}).
 * Like every netkit datagram socket it keeps one receive in flight: a
 * receive that times out loses nothing, datagrams come in arrival order,
 * and `close()` rejects a waiting receive with `closed` at once.
 *
 * A raw ICMP socket receives **every** ICMP message the host receives
 * (other programs' pings and replies, errors, its own echo requests on
 * loopback): check the type, identifier and sequence of what arrives. A
 * ping socket receives only the replies to its own requests.
 *
 * @example Ping 127.0.0.1 (as root, or with CAP_NET_RAW)
 * ```ts
 * import { bindRaw } from "@netkit/netkit/udp";
 *
 * await using socket = await bindRaw({ protocol: "icmp" });
 * // type 8 (echo request), code 0, checksum, identifier 0x1234, sequence 1
 * const echo = new Uint8Array([8, 0, 0, 0, 0x12, 0x34, 0, 1]);
 * const sum = 0xffff - ((8 << 8) + 0x1234 + 1); // the ones' complement sum of the words
 * echo[2] = sum >> 8;
 * echo[3] = sum & 0xff;
 * await socket.sendTo(echo, "127.0.0.1");
 * for await (const { data } of socket) {
 *   const icmp = data.subarray((data[0] & 15) * 4); // after the IP header
 *   if (icmp[0] === 0 && icmp[4] === 0x12 && icmp[5] === 0x34) break; // our echo reply
 * }
 * ```
 */
export class RawSocket extends DatagramSocket<RawDatagram> {
  readonly #engine: DatagramEngine;
  readonly #family: "inet" | "inet6";
  readonly #protocol: number;
  readonly #ping: boolean;
  readonly #label: string | undefined;
  readonly #options: NativeSocket;
  #lastHost: string | undefined;
  #lastAddress: Uint8Array | undefined;

  /**
   * Made by {@linkcode bindRaw}; user code does not call this.
   *
   * @param engine The socket's datagram engine (it owns the descriptor).
   * @param init Its family, protocol, kind, buffer size and label.
   */
  constructor(
    engine: DatagramEngine,
    init: {
      family: "inet" | "inet6";
      protocol: number;
      ping: boolean;
      bufferSize: number;
      label: string | undefined;
    },
  ) {
    super(engine, init.bufferSize, init.label);
    this.#engine = engine;
    this.#family = init.family;
    this.#protocol = init.protocol;
    this.#ping = init.ping;
    this.#label = init.label;
    // The option table sees an IP datagram socket of this family.
    this.#options = {
      kind: "udp",
      kindName: init.ping ? "a ping socket" : "a raw socket",
      family: init.family === "inet" ? "v4" : "v6",
    } as unknown as NativeSocket;
  }

  /** The sender's address. */
  protected decode(data: Uint8Array, from: Deno.Addr, truncated: boolean): RawDatagram {
    return { data, hostname: (from as Deno.NetAddr).hostname, truncated };
  }

  /** `"inet"` or `"inet6"`. */
  get family(): "inet" | "inet6" {
    return this.#family;
  }

  /** The IP protocol number (1 for ICMP, 58 for ICMPv6). */
  get protocol(): number {
    return this.#protocol;
  }

  /** True for a ping socket (`ping: true`). */
  get ping(): boolean {
    return this.#ping;
  }

  /**
   * Sends one datagram to `host` (sock's `sendto` on a raw socket). On a
   * raw socket `data` is the IP payload (the kernel writes the IP header;
   * for ICMPv6 it also computes the checksum, for ICMP the caller does); on
   * a ping socket it is an ICMP echo request whose identifier and checksum
   * the kernel fills in.
   *
   * @param data Bytes, or a string (UTF-8 encoded).
   * @param host An IP address of the socket's family, or a host name.
   * @param options `{ timeout, signal }`.
   * @returns How many bytes were sent.
   * @throws {NetError} `invalid_argument` (bad host, wrong family, a ping
   *   socket's non-echo message), `name_not_resolved`, `host_unreachable`,
   *   `access_denied` (e.g. a broadcast address), `closed`, `timeout`,
   *   `aborted`.
   *
   * @example
   * ```ts
   * import { bindRaw } from "@netkit/netkit/udp";
   *
   * await using socket = await bindRaw({ family: "inet6" }); // ICMPv6
   * // echo request, code 0, checksum left to the kernel, id 7, sequence 1
   * await socket.sendTo(new Uint8Array([128, 0, 0, 0, 0, 7, 0, 1]), "::1");
   * ```
   */
  async sendTo(
    data: Uint8Array | string,
    host: string,
    options?: DeadlineOptions,
  ): Promise<number> {
    const bytes = toBytes("sendTo", data);
    using deadline = deadlineOf("sendTo", options, this.#label);
    if (typeof host !== "string" || host === "") {
      throw invalidArgument("sendTo", "host", "an IP address or a host name", host);
    }
    this.checkOpen("sendTo");
    let address: Uint8Array;
    if (host === this.#lastHost) {
      address = this.#lastAddress!;
    } else {
      address = await this.#destination(host, deadline);
      if (isIP(stripBrackets(host)) !== 0) {
        this.#lastHost = host;
        this.#lastAddress = address;
      }
    }
    this.checkOpen("sendTo");
    const sending = this.#engine.send(bytes, address, "sendTo", stripBrackets(host));
    try {
      return await (deadline === undefined ? sending : deadline.wait(sending));
    } catch (error) {
      if (this.closed) throw closedError("sendTo", this.#label);
      throw toNetError(error, "sendTo", stripBrackets(host));
    }
  }

  async #destination(host: string, deadline: Deadline | undefined): Promise<Uint8Array> {
    const bare = stripBrackets(host);
    let ip = bare;
    if (isIP(bare) === 0) {
      const name = checkHost("sendTo", bare, "host");
      const lookup = resolveFor("sendTo", this.#family === "inet" ? "v4" : "v6", name, "host");
      ip = await (deadline === undefined ? lookup : deadline.wait(lookup));
    }
    const version = isIP(ip);
    if (version !== (this.#family === "inet" ? 4 : 6)) {
      throw new NetError(
        "invalid_argument",
        `an ${this.#family === "inet" ? "IPv4" : "IPv6"} socket cannot send to ${ip}`,
        { op: "sendTo", address: ip, field: "host" },
      );
    }
    return encodeSockaddr(this.#engine.n, ip);
  }

  /**
   * The socket's descriptor (XPIO `fileno`); netkit owns it.
   *
   * @returns The descriptor number.
   * @throws {NetError} `closed` after `close()`.
   *
   * @example
   * ```ts
   * import { bindRaw } from "@netkit/netkit/udp";
   *
   * await using socket = await bindRaw({ protocol: "icmp" });
   * console.log(socket.fileno() > 2); // true
   * ```
   */
  override fileno(): number {
    this.checkOpen("fileno");
    return this.#engine.fd;
  }

  /**
   * Sets a socket option by its POSIX name (`so_rcvbuf`, `ip_ttl`,
   * `ipv6_unicast_hops`, …: the IP datagram options of the guide's table).
   *
   * @param name The option's name, lower case.
   * @param value Its value.
   * @throws {NetError} `invalid_argument` (field `name` or `value`),
   *   `not_supported` (read-only, or refused by the kernel),
   *   `access_denied`, `closed`.
   *
   * @example
   * ```ts
   * import { bindRaw } from "@netkit/netkit/udp";
   *
   * await using socket = await bindRaw({ protocol: "icmp" });
   * socket.setOption("ip_ttl", 3); // a traceroute-style probe
   * ```
   */
  override setOption<K extends WritableOptionName>(name: K, value: SocketOptionValues[K]): void {
    const engine = this.#engine;
    setOptionAt(
      engine.n,
      engine.fd,
      this.#options,
      name,
      value,
      (op) => this.checkOpen(op),
      this.#label,
    );
  }

  /**
   * Reads a socket option from the kernel (getsockopt).
   *
   * @param name The option's name, lower case.
   * @returns Its current value (`so_type` is `"raw"`, or `"dgram"` for a ping socket).
   * @throws {NetError} as `setOption`.
   *
   * @example
   * ```ts
   * import { bindRaw } from "@netkit/netkit/udp";
   *
   * await using socket = await bindRaw({ protocol: "icmp" });
   * console.log(socket.getOption("so_type")); // "raw"
   * ```
   */
  override getOption<K extends SocketOptionName>(name: K): SocketOptionValues[K] {
    const engine = this.#engine;
    return getOptionAt(
      engine.n,
      engine.fd,
      this.#options,
      name,
      (op) => this.checkOpen(op),
      this.#label,
    ) as SocketOptionValues[K];
  }

  /** Closes the socket and waits until its descriptor is closed and nothing waits on it. */
  override async [Symbol.asyncDispose](): Promise<void> {
    await super[Symbol.asyncDispose]();
    await this.#engine.close();
  }
}

/**
 * Opens a raw IP socket (sock's `raw`; needs CAP_NET_RAW, e.g. root) or,
 * with `ping: true`, an unprivileged ICMP ping socket. Linux only; needs
 * `--allow-ffi` (the socket is made and read through the C library).
 *
 * @param options Family, protocol, local address, `ping`, `bufferSize`.
 * @returns The socket.
 * @throws {NetError} `invalid_argument` naming the field (checked first),
 *   `not_supported` without `--allow-ffi` (the message names it) or for a
 *   protocol the kernel does not offer, `access_denied` without CAP_NET_RAW
 *   (or, for a ping socket, outside `net.ipv4.ping_group_range`),
 *   `address_not_available` for a local address the host does not have.
 *
 * @example A raw socket as root, a ping socket where the group may have one
 * ```ts
 * import { bindRaw, type NetError } from "@netkit/netkit/udp";
 *
 * const socket = await bindRaw({ protocol: "icmp" }).catch((error: NetError) =>
 *   error.code === "access_denied" ? bindRaw({ ping: true }) : Promise.reject(error)
 * );
 * console.log(socket.getOption("so_type")); // "raw" ("dgram" for a ping socket)
 * await socket[Symbol.asyncDispose]();
 * ```
 */
export async function bindRaw(options?: BindRawOptions): Promise<RawSocket> {
  const op = "bindRaw";
  const checked = validateOptions<BindRawOptions>(op, options, BIND_RAW_RULES);
  const family = checked.family ?? "inet";
  const given = checked.protocol;
  const protocol = given === undefined
    ? (family === "inet" ? IPPROTO_ICMP : IPPROTO_ICMPV6)
    : typeof given === "string"
    ? PROTOCOLS[given]
    : given | 0; // -0 is no integer to the FFI
  if (
    (family === "inet" && given === "icmpv6") || (family === "inet6" && given === "icmp")
  ) {
    throw new NetError(
      "invalid_argument",
      `protocol "${given}" does not go with family "${family}" (IPv4 uses "icmp", IPv6 "icmpv6")`,
      { op, field: "protocol" },
    );
  }
  const ping = checked.ping ?? false;
  if (ping && protocol !== (family === "inet" ? IPPROTO_ICMP : IPPROTO_ICMPV6)) {
    throw new NetError(
      "invalid_argument",
      `a ping socket speaks ${family === "inet" ? "icmp" : "icmpv6"} only (got protocol ${given})`,
      { op, field: "protocol" },
    );
  }
  let hostname: string | undefined;
  if (checked.hostname !== undefined) {
    hostname = checkHost(op, checked.hostname);
    const version = isIP(hostname);
    if (version !== 0 && version !== (family === "inet" ? 4 : 6)) {
      throw new NetError(
        "invalid_argument",
        `hostname ${hostname} is not an ${family === "inet" ? "IPv4" : "IPv6"} address`,
        { op, field: "hostname" },
      );
    }
  }
  const what = ping ? "a ping socket" : "a raw socket";
  // Without the native layer this is not_supported naming --allow-ffi, before any lookup.
  const engine = openRaw(op, what, family, ping, protocol);
  try {
    if (hostname !== undefined) {
      if (isIP(hostname) === 0) {
        hostname = await resolveFor(op, family === "inet" ? "v4" : "v6", hostname, "hostname");
      }
      engine.bind(encodeSockaddr(engine.n, hostname), op);
    }
  } catch (error) {
    await engine.close();
    throw toNetError(error, op, hostname);
  }
  const label =
    `${ping ? "ping" : "raw"} ${family === "inet" ? "IPv4" : "IPv6"} protocol ${protocol}` +
    (hostname === undefined ? "" : ` on ${hostname}`);
  engine.label = label;
  return new RawSocket(engine, {
    family,
    protocol,
    ping,
    bufferSize: checked.bufferSize ?? DEFAULT_BUFFER_SIZE,
    label,
  });
}

function openRaw(
  op: string,
  what: string,
  family: "inet" | "inet6",
  ping: boolean,
  protocol: number,
): DatagramEngine {
  try {
    return openDatagram(op, what, family, ping ? "dgram" : "raw", protocol);
  } catch (error) {
    if (!(error instanceof NetError)) throw error;
    const errno = (error.cause as { code?: string } | undefined)?.code;
    if (error.code === "access_denied") {
      throw new NetError(
        "access_denied",
        ping ? pingRangeHint() : "raw sockets need CAP_NET_RAW (run as root, or grant the " +
          "capability: setcap cap_net_raw+ep on the deno binary), or use ping: true for ICMP echo",
        { op, cause: error.cause },
      );
    }
    if (errno === "EPROTONOSUPPORT" || errno === "ESOCKTNOSUPPORT") {
      throw new NetError("not_supported", `the kernel offers no ${what} for protocol ${protocol}`, {
        op,
        field: "protocol",
        cause: error.cause,
      });
    }
    throw error;
  }
}
