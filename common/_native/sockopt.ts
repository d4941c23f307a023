/**
 * The socket option table: every name of netkit's contract with its
 * level and number (from the platform table), its value type and range,
 * and which sockets it applies to. Names and values are checked here
 * before anything native runs, so bad input is `invalid_argument` with or
 * without `--allow-ffi`; `getOption` then reads the kernel (getsockopt).
 *
 * @module
 */

import { isIP } from "node:net";
import { addressToBytes, bytesToAddress } from "../address.ts";
import { errorCodeOf, NetError } from "../errors.ts";
import { closedError } from "../_errors.ts";
import { invalidArgument, show } from "../_options.ts";
import type { Platform } from "./linux.ts";
import type { Native } from "./libc.ts";
import type { NativeSocket, SocketFamily, SocketKind } from "./socket.ts";
import type { PeerCredentials, SocketOptionName, SocketType } from "../native.ts";

type Codec =
  | "bool"
  | "int"
  | "linger"
  | "error"
  | "type"
  | "cred"
  | "congestion"
  | "inaddr"
  | "nonblock";

type Level = "socket" | "tcp" | "ip" | "ipv6";

interface OptionRule {
  level: Level;
  /** The constant's name in the platform's table for that level. */
  constant: string;
  codec: Codec;
  kinds: readonly SocketKind[];
  /** Only these IP families (unset: any). */
  families?: readonly SocketFamily[];
  /** What it applies to, in words, for messages. */
  appliesTo: string;
  min?: number;
  max?: number;
  /** Why it cannot be set, for the read-only ones. */
  readOnly?: string;
}

const ALL: readonly SocketKind[] = [
  "tcp-stream",
  "unix-stream",
  "tcp-listener",
  "unix-listener",
  "udp",
  "unix-dgram",
];
const TCP: readonly SocketKind[] = ["tcp-stream", "tcp-listener"];
const IP_SOCKETS: readonly SocketKind[] = ["tcp-stream", "tcp-listener", "udp"];
const V4: readonly SocketFamily[] = ["v4", "dual"];
const V6: readonly SocketFamily[] = ["v6", "dual"];
const INT_MAX = 0x7fffffff;
const READ_ONLY = "it is read-only (the kernel reports it)";

/** Every option name of the contract. */
export const OPTIONS: Readonly<Record<SocketOptionName, OptionRule>> = Object.freeze({
  so_rcvbuf: {
    level: "socket",
    constant: "RCVBUF",
    codec: "int",
    kinds: ALL,
    appliesTo: "every socket",
    min: 0,
    max: INT_MAX,
  },
  so_sndbuf: {
    level: "socket",
    constant: "SNDBUF",
    codec: "int",
    kinds: ALL,
    appliesTo: "every socket",
    min: 0,
    max: INT_MAX,
  },
  so_keepalive: {
    level: "socket",
    constant: "KEEPALIVE",
    codec: "bool",
    kinds: TCP,
    appliesTo: "TCP sockets",
  },
  so_reuseaddr: {
    level: "socket",
    constant: "REUSEADDR",
    codec: "bool",
    kinds: ["tcp-stream", "tcp-listener", "udp", "unix-listener"],
    appliesTo: "TCP and UDP sockets and listeners",
  },
  so_reuseport: {
    level: "socket",
    constant: "REUSEPORT",
    codec: "bool",
    kinds: ["tcp-stream", "tcp-listener", "udp", "unix-listener"],
    appliesTo: "TCP and UDP sockets and listeners",
  },
  so_broadcast: {
    level: "socket",
    constant: "BROADCAST",
    codec: "bool",
    kinds: ["udp"],
    appliesTo: "UDP sockets",
  },
  so_linger: {
    level: "socket",
    constant: "LINGER",
    codec: "linger",
    kinds: ["tcp-stream", "unix-stream"],
    appliesTo: "TCP and unix streams",
    min: 0,
    max: INT_MAX,
  },
  so_error: {
    level: "socket",
    constant: "ERROR",
    codec: "error",
    kinds: ALL,
    appliesTo: "every socket",
    readOnly: READ_ONLY,
  },
  so_type: {
    level: "socket",
    constant: "TYPE",
    codec: "type",
    kinds: ALL,
    appliesTo: "every socket",
    readOnly: READ_ONLY,
  },
  so_acceptconn: {
    level: "socket",
    constant: "ACCEPTCONN",
    codec: "bool",
    kinds: ALL,
    appliesTo: "every socket",
    readOnly: READ_ONLY,
  },
  so_peercred: {
    level: "socket",
    constant: "PEERCRED",
    codec: "cred",
    kinds: ["unix-stream"],
    appliesTo: "unix streams",
    readOnly: "it is read-only (the peer process's pid, uid and gid)",
  },
  tcp_nodelay: {
    level: "tcp",
    constant: "NODELAY",
    codec: "bool",
    kinds: TCP,
    appliesTo: "TCP sockets",
  },
  tcp_keepidle: {
    level: "tcp",
    constant: "KEEPIDLE",
    codec: "int",
    kinds: TCP,
    appliesTo: "TCP sockets",
    min: 1,
    max: 32767,
  },
  tcp_keepintvl: {
    level: "tcp",
    constant: "KEEPINTVL",
    codec: "int",
    kinds: TCP,
    appliesTo: "TCP sockets",
    min: 1,
    max: 32767,
  },
  tcp_keepcnt: {
    level: "tcp",
    constant: "KEEPCNT",
    codec: "int",
    kinds: TCP,
    appliesTo: "TCP sockets",
    min: 1,
    max: 127,
  },
  tcp_user_timeout: {
    level: "tcp",
    constant: "USER_TIMEOUT",
    codec: "int",
    kinds: TCP,
    appliesTo: "TCP sockets",
    min: 0,
    max: INT_MAX,
  },
  tcp_congestion: {
    level: "tcp",
    constant: "CONGESTION",
    codec: "congestion",
    kinds: TCP,
    appliesTo: "TCP sockets",
  },
  ip_ttl: {
    level: "ip",
    constant: "TTL",
    codec: "int",
    kinds: IP_SOCKETS,
    families: V4,
    appliesTo: "IPv4 TCP and UDP sockets",
    min: 1,
    max: 255,
  },
  ip_tos: {
    level: "ip",
    constant: "TOS",
    codec: "int",
    kinds: IP_SOCKETS,
    families: V4,
    appliesTo: "IPv4 TCP and UDP sockets",
    min: 0,
    max: 255,
  },
  ipv6_unicast_hops: {
    level: "ipv6",
    constant: "UNICAST_HOPS",
    codec: "int",
    kinds: IP_SOCKETS,
    families: V6,
    appliesTo: "IPv6 TCP and UDP sockets",
    min: -1,
    max: 255,
  },
  ipv6_v6only: {
    level: "ipv6",
    constant: "V6ONLY",
    codec: "bool",
    kinds: IP_SOCKETS,
    families: V6,
    appliesTo: "IPv6 sockets",
  },
  ip_multicast_ttl: {
    level: "ip",
    constant: "MULTICAST_TTL",
    codec: "int",
    kinds: ["udp"],
    families: V4,
    appliesTo: "IPv4 UDP sockets",
    min: 0,
    max: 255,
  },
  ip_multicast_loop: {
    level: "ip",
    constant: "MULTICAST_LOOP",
    codec: "bool",
    kinds: ["udp"],
    families: V4,
    appliesTo: "IPv4 UDP sockets",
  },
  ip_multicast_if: {
    level: "ip",
    constant: "MULTICAST_IF",
    codec: "inaddr",
    kinds: ["udp"],
    families: V4,
    appliesTo: "IPv4 UDP sockets",
  },
  ipv6_multicast_hops: {
    level: "ipv6",
    constant: "MULTICAST_HOPS",
    codec: "int",
    kinds: ["udp"],
    families: V6,
    appliesTo: "IPv6 UDP sockets",
    min: -1,
    max: 255,
  },
  ipv6_multicast_loop: {
    level: "ipv6",
    constant: "MULTICAST_LOOP",
    codec: "bool",
    kinds: ["udp"],
    families: V6,
    appliesTo: "IPv6 UDP sockets",
  },
  ipv6_multicast_if: {
    level: "ipv6",
    constant: "MULTICAST_IF",
    codec: "int",
    kinds: ["udp"],
    families: V6,
    appliesTo: "IPv6 UDP sockets",
    min: 0,
    max: INT_MAX,
  },
  o_nonblock: {
    level: "socket",
    constant: "",
    codec: "nonblock",
    kinds: ALL,
    appliesTo: "every socket",
    readOnly: "Deno's reactor needs non-blocking descriptors, so it stays true",
  },
});

const NAMES = Object.keys(OPTIONS) as SocketOptionName[];
const NAME_LIST = "a socket option name (" + NAMES.join(", ") + ")";

/**
 * The rule of `name` for this socket: an unknown name, or one that does not
 * apply to this kind of socket, is `invalid_argument` naming `name`.
 *
 * @param op `"setOption"` or `"getOption"`.
 * @param socket The object's socket.
 * @param name What the caller passed.
 * @param label The address errors name.
 */
export function ruleOf(
  op: string,
  socket: NativeSocket,
  name: unknown,
  label: string | undefined,
): OptionRule {
  if (typeof name !== "string" || !Object.hasOwn(OPTIONS, name)) {
    const error = invalidArgument(op, "name", NAME_LIST, name);
    throw new NetError("invalid_argument", error.detail, { op, address: label, field: "name" });
  }
  const rule = OPTIONS[name as SocketOptionName];
  if (socket.kind === null) {
    throw new NetError(
      "not_supported",
      `${name} needs a socket, and this stream shows no socket addresses (a process pipe or a socket pair)`,
      { op, address: label, field: "name" },
    );
  }
  if (!rule.kinds.includes(socket.kind)) {
    throw new NetError(
      "invalid_argument",
      `${name} does not apply to ${socket.kindName} (it applies to ${rule.appliesTo})`,
      { op, address: label, field: "name" },
    );
  }
  if (rule.families !== undefined && !rule.families.includes(socket.family)) {
    throw new NetError(
      "invalid_argument",
      `${name} does not apply to this ${socket.family === "v4" ? "IPv4" : "IPv6"} socket ` +
        `(it applies to ${rule.appliesTo})`,
      { op, address: label, field: "name" },
    );
  }
  return rule;
}

function badValue(name: string, accepts: string, value: unknown, label: string | undefined) {
  return new NetError(
    "invalid_argument",
    `value of ${name} must be ${accepts} (got ${show(value)})`,
    {
      op: "setOption",
      address: label,
      field: "value",
    },
  );
}

/**
 * Checks a value for `setOption`: read-only names are `not_supported`,
 * wrong types or ranges `invalid_argument` naming `value`.
 */
export function checkValue(
  name: string,
  rule: OptionRule,
  value: unknown,
  label: string | undefined,
): void {
  if (rule.readOnly !== undefined) {
    throw new NetError("not_supported", `${name} cannot be set: ${rule.readOnly}`, {
      op: "setOption",
      address: label,
      field: "name",
    });
  }
  switch (rule.codec) {
    case "bool":
      if (typeof value !== "boolean") throw badValue(name, "a boolean", value, label);
      return;
    case "int":
    case "linger": {
      if (rule.codec === "linger" && value === null) return;
      const ok = typeof value === "number" && Number.isInteger(value) &&
        value >= rule.min! && value <= rule.max!;
      if (!ok) {
        const range = `an integer from ${rule.min} to ${rule.max}`;
        throw badValue(
          name,
          rule.codec === "linger" ? `null or ${range} (seconds)` : range,
          value,
          label,
        );
      }
      return;
    }
    case "congestion":
      if (typeof value !== "string" || !/^[A-Za-z0-9_.-]{1,15}$/.test(value)) {
        throw badValue(name, 'an algorithm name of 1 to 15 characters, e.g. "cubic"', value, label);
      }
      return;
    case "inaddr":
      if (typeof value !== "string" || isIP(value) !== 4) {
        throw badValue(name, 'an IPv4 interface address, e.g. "127.0.0.1"', value, label);
      }
      return;
  }
}

const data = new Uint8Array(64);
const view = new DataView(data.buffer);
const size = new Uint8Array(4);
const size32 = new Uint32Array(size.buffer);
const decoder = new TextDecoder();
const encoder = new TextEncoder();

const LEVEL_NAMES: Record<Level, string> = {
  socket: "SOL_SOCKET",
  tcp: "IPPROTO_TCP",
  ip: "IPPROTO_IP",
  ipv6: "IPPROTO_IPV6",
};

function levelOf(p: Platform, level: Level): number {
  return level === "socket"
    ? p.SOL_SOCKET
    : level === "tcp"
    ? p.IPPROTO_TCP
    : level === "ip"
    ? p.IPPROTO_IP
    : p.IPPROTO_IPV6;
}

function numberOf(p: Platform, rule: OptionRule): number {
  const table = rule.level === "socket"
    ? p.SO
    : rule.level === "tcp"
    ? p.TCP
    : rule.level === "ip"
    ? p.IP
    : p.IPV6;
  return table[rule.constant];
}

/** The error of a refused get/setsockopt, with the contract's codes. */
function refused(n: Native, call: string, name: string, op: string, label: string | undefined) {
  const errno = n.errnoName(n.errno());
  if (errno === "EINVAL" || errno === "ENOPROTOOPT" || errno === "EOPNOTSUPP") {
    return n.fail(call, op, label, "not_supported");
  }
  if (name === "tcp_congestion" && errno === "ENOENT") {
    const error = n.fail(call, op, label, "not_supported");
    return new NetError("not_supported", `the kernel has no such congestion control algorithm`, {
      op,
      address: label,
      cause: error.cause,
    });
  }
  return n.fail(call, op, label);
}

function typeName(p: Platform, type: number): SocketType {
  if (type === p.SOCK_STREAM) return "stream";
  if (type === p.SOCK_DGRAM) return "dgram";
  if (type === p.SOCK_SEQPACKET) return "seqpacket";
  return "raw";
}

/**
 * Reads an option from the kernel.
 *
 * @param n The opened library.
 * @param fd The socket's descriptor.
 * @param name The (checked) option name.
 * @param rule Its rule.
 * @param label The address errors name.
 */
export function readOption(
  n: Native,
  fd: number,
  name: string,
  rule: OptionRule,
  label: string | undefined,
): unknown {
  const p = n.platform;
  if (rule.codec === "nonblock") {
    const flags = n.sym.fcntl(fd, p.F_GETFL);
    if (flags < 0) throw n.fail("fcntl(F_GETFL)", "getOption", label);
    return (flags & p.O_NONBLOCK) !== 0;
  }
  size32[0] = rule.codec === "congestion"
    ? 16
    : rule.codec === "cred"
    ? 12
    : rule.codec === "linger"
    ? 8
    : 4;
  data.fill(0, 0, 16);
  const call = `getsockopt(${LEVEL_NAMES[rule.level]}, ${name.toUpperCase()})`;
  if (n.sym.getsockopt(fd, levelOf(p, rule.level), numberOf(p, rule), data, size) !== 0) {
    throw refused(n, call, name, "getOption", label);
  }
  const int = view.getInt32(0, true);
  switch (rule.codec) {
    case "bool":
      return int !== 0;
    case "int":
      return int;
    case "linger":
      return int === 0 ? null : view.getInt32(4, true);
    case "error":
      return int === 0 ? null : errorCodeOf(
        Object.assign(new Error(`${n.errnoName(int)} (os error ${int})`), {
          code: n.errnoName(int),
        }),
      );
    case "type":
      return typeName(p, int);
    case "cred":
      return {
        pid: int,
        uid: view.getUint32(4, true),
        gid: view.getUint32(8, true),
      } satisfies PeerCredentials;
    case "congestion": {
      const end = data.indexOf(0);
      return decoder.decode(data.subarray(0, end === -1 || end > 16 ? 16 : end));
    }
    case "inaddr":
      return bytesToAddress(data.slice(0, 4));
  }
}

/**
 * Sets an option in the kernel (the value already checked).
 *
 * @param n The opened library.
 * @param fd The socket's descriptor.
 * @param name The option name.
 * @param rule Its rule.
 * @param value The checked value.
 * @param label The address errors name.
 */
export function writeOption(
  n: Native,
  fd: number,
  name: string,
  rule: OptionRule,
  value: unknown,
  label: string | undefined,
): void {
  const p = n.platform;
  let length = 4;
  switch (rule.codec) {
    case "bool":
      view.setInt32(0, value ? 1 : 0, true);
      break;
    case "int":
      view.setInt32(0, value as number, true);
      break;
    case "linger":
      view.setInt32(0, value === null ? 0 : 1, true);
      view.setInt32(4, value === null ? 0 : value as number, true);
      length = 8;
      break;
    case "congestion": {
      const bytes = encoder.encode(value as string);
      data.set(bytes);
      length = bytes.length;
      break;
    }
    case "inaddr":
      data.set(addressToBytes(value as string));
      break;
  }
  const call = `setsockopt(${LEVEL_NAMES[rule.level]}, ${name.toUpperCase()})`;
  if (n.sym.setsockopt(fd, levelOf(p, rule.level), numberOf(p, rule), data, length) !== 0) {
    throw refused(n, call, name, "setOption", label);
  }
}

/** `closed` for an option call on a closed object. */
export function optionClosed(op: string, label: string | undefined): NetError {
  return closedError(op, label);
}
