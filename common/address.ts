/**
 * Addresses: XPIO's `"ip:port"` format and its variations, the system
 * resolver, network interfaces and the "any" constants.
 *
 * @module
 */

import { lookup } from "node:dns/promises";
import config from "../deno.json" with { type: "json" };
import { isIP } from "node:net";
import { NetError } from "./errors.ts";
import {
  checkHost,
  checkPort,
  HOSTNAME,
  hostPortLabel,
  stripBrackets,
  trackLookup,
} from "./_address.ts";
import { toNetError } from "./_errors.ts";
import { Deadline } from "./_deadline.ts";
import { DEADLINE_RULES, invalidArgument, type Schema, validateOptions } from "./_options.ts";
import { getaddrinfo } from "./_native/getaddrinfo.ts";
import { idle, native } from "./_native/libc.ts";

/**
 * The IPv4 "any" address: bind to every interface (lsocket's `INADDR_ANY`).
 *
 * @example
 * ```ts
 * import { formatAddress, INADDR_ANY } from "@netkit/netkit";
 *
 * console.log(formatAddress({ hostname: INADDR_ANY, port: 80 })); // "0.0.0.0:80"
 * ```
 */
export const INADDR_ANY = "0.0.0.0";
/**
 * The IPv6 "any" address: bind to every interface (lsocket's `IN6ADDR_ANY`).
 *
 * @example
 * ```ts
 * import { formatAddress, IN6ADDR_ANY } from "@netkit/netkit";
 *
 * console.log(formatAddress({ hostname: IN6ADDR_ANY, port: 80 })); // "[::]:80"
 * ```
 */
export const IN6ADDR_ANY = "::";
/**
 * netkit's version (lsocket's `_VERSION`).
 *
 * @example
 * ```ts
 * import { VERSION } from "@netkit/netkit";
 *
 * console.log(VERSION); // "0.1.0"
 * ```
 */
export const VERSION: string = config.version;

/** A host and a port, as `parseAddress` returns and `formatAddress` takes. */
export interface HostPort {
  /** An IPv4 or IPv6 literal, or a host name. */
  hostname: string;
  /** A port number, 0..65535 (0: any). */
  port: number;
}

/** Defaults for the parts an address string leaves out. */
export interface AddressDefaults {
  /** Host when the string has none (default `"0.0.0.0"`). */
  hostname?: string;
  /** Port when the string has none (default 0). */
  port?: number;
}

const DIGITS = /^\d+$/;

function parsePort(text: string, input: string, fallback: number): number {
  if (text === "") return fallback;
  if (!DIGITS.test(text) || Number(text) > 65535) {
    throw invalidArgument(
      "parseAddress",
      "address",
      '"host:port" with a port from 0 to 65535',
      input,
    );
  }
  return Number(text);
}

function numericIPv4(text: string): string | undefined {
  if (!DIGITS.test(text)) return undefined;
  const n = Number(text);
  if (n > 0xffffffff) return undefined;
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
}

/**
 * Parses an address in XPIO's format and its variations: `"192.168.1.1:80"`,
 * `"127.0.0.1"` (port 0), `":80"` (any interface), `"3232235777:80"` (IPv4
 * as one number), `"[::1]:80"`, a bare IPv6 literal `"::1"`, and
 * `"localhost:8080"` (host names are kept for the resolver).
 *
 * @param input The address string.
 * @param defaults The host and port used where the string has none.
 * @returns `{ hostname, port }`.
 * @throws {NetError} `invalid_argument` for anything else.
 *
 * @example The documented variations
 * ```ts
 * import { parseAddress } from "@netkit/netkit";
 *
 * console.log(parseAddress("192.168.1.1:80")); // { hostname: "192.168.1.1", port: 80 }
 * console.log(parseAddress(":80")); // { hostname: "0.0.0.0", port: 80 }
 * console.log(parseAddress("3232235777:80")); // { hostname: "192.168.1.1", port: 80 }
 * console.log(parseAddress("[::1]:80")); // { hostname: "::1", port: 80 }
 * ```
 */
export function parseAddress(input: string, defaults?: AddressDefaults): HostPort {
  const options = validateOptions<AddressDefaults>("parseAddress", defaults, {
    hostname: { type: "string" },
    port: { type: "integer", min: 0, max: 65535 },
  });
  const fallbackHost = options.hostname ?? INADDR_ANY;
  const fallbackPort = options.port ?? 0;
  if (typeof input !== "string") {
    throw invalidArgument("parseAddress", "address", "a string", input);
  }
  const bad = () =>
    invalidArgument(
      "parseAddress",
      "address",
      '"ip:port", "[ipv6]:port", "host:port", ":port" or an IP address',
      input,
    );
  let host: string;
  let port = fallbackPort;
  if (input.startsWith("[")) {
    const close = input.indexOf("]");
    if (close < 0) throw bad();
    host = input.slice(1, close);
    const rest = input.slice(close + 1);
    if (isIP(host) !== 6) throw bad();
    if (rest !== "") {
      if (!rest.startsWith(":")) throw bad();
      port = parsePort(rest.slice(1), input, fallbackPort);
    }
    return { hostname: host, port };
  }
  if (isIP(input) === 6) return { hostname: input, port };
  const colon = input.indexOf(":");
  if (colon >= 0 && input.indexOf(":", colon + 1) >= 0) throw bad();
  host = colon < 0 ? input : input.slice(0, colon);
  if (colon >= 0) port = parsePort(input.slice(colon + 1), input, fallbackPort);
  if (host === "") return { hostname: fallbackHost, port };
  const numeric = numericIPv4(host);
  if (numeric !== undefined) return { hostname: numeric, port };
  if (isIP(host) === 4) return { hostname: host, port };
  if (/^[\d.]+$/.test(host) || !HOSTNAME.test(host)) throw bad();
  return { hostname: host, port };
}

/**
 * Formats an address as `"ip:port"` or `"[ipv6]:port"`, the inverse of
 * {@linkcode parseAddress}.
 *
 * @param address `{ hostname, port }` (a `Deno.NetAddr` works too).
 * @returns The formatted address.
 * @throws {NetError} `invalid_argument` for a bad host or port.
 *
 * @example
 * ```ts
 * import { formatAddress } from "@netkit/netkit";
 *
 * console.log(formatAddress({ hostname: "::1", port: 80 })); // "[::1]:80"
 * ```
 */
export function formatAddress(address: HostPort): string {
  if (typeof address !== "object" || address === null) {
    throw invalidArgument("formatAddress", "address", "{ hostname, port }", address);
  }
  const host = checkHost("formatAddress", address.hostname);
  const port = checkPort("formatAddress", address.port);
  return hostPortLabel(host, port);
}

/**
 * An IP address as its bytes in network order (sock's `ip:tobinary()`): 4
 * for IPv4, 16 for IPv6 (an IPv4-mapped IPv6 address stays 16 bytes).
 *
 * @param address An IPv4 or IPv6 literal (brackets allowed).
 * @returns The address bytes.
 * @throws {NetError} `invalid_argument` naming `address` for anything else.
 *
 * @example
 * ```ts
 * import { addressToBytes } from "@netkit/netkit";
 *
 * console.log(addressToBytes("192.168.1.2")); // Uint8Array(4) [ 192, 168, 1, 2 ]
 * console.log(addressToBytes("::1").length); // 16
 * ```
 */
export function addressToBytes(address: string): Uint8Array {
  const bare = typeof address === "string" ? stripBrackets(address) : address;
  const kind = typeof bare === "string" ? isIP(bare) : 0;
  if (kind === 4) return Uint8Array.from(bare.split(".").map(Number));
  if (kind !== 6) {
    throw invalidArgument("addressToBytes", "address", "an IPv4 or IPv6 address", address);
  }
  // The URL parser normalises IPv6 (and an embedded IPv4 tail) to hex groups.
  const groups = new URL(`http://[${bare}]/`).hostname.slice(1, -1).split(":");
  const bytes = new Uint8Array(16);
  const gap = groups.indexOf("");
  const head = gap === -1 ? groups : groups.slice(0, gap);
  const tail = gap === -1 ? [] : groups.slice(gap).filter((group) => group !== "");
  const write = (list: string[], from: number) =>
    list.forEach((group, index) => {
      const value = parseInt(group, 16);
      bytes[from + index * 2] = value >> 8;
      bytes[from + index * 2 + 1] = value & 255;
    });
  write(head, 0);
  write(tail, 16 - tail.length * 2);
  return bytes;
}

/**
 * The inverse of {@linkcode addressToBytes}: 4 bytes are an IPv4 address,
 * 16 bytes an IPv6 address in its compressed form.
 *
 * @param bytes 4 or 16 bytes in network order.
 * @returns The address literal.
 * @throws {NetError} `invalid_argument` naming `bytes` for another length.
 *
 * @example
 * ```ts
 * import { bytesToAddress } from "@netkit/netkit";
 *
 * console.log(bytesToAddress(new Uint8Array([127, 0, 0, 1]))); // "127.0.0.1"
 * console.log(bytesToAddress(new Uint8Array(16).fill(0, 0, 15).fill(1, 15))); // "::1"
 * ```
 */
export function bytesToAddress(bytes: Uint8Array): string {
  if (!(bytes instanceof Uint8Array) || (bytes.length !== 4 && bytes.length !== 16)) {
    throw invalidArgument("bytesToAddress", "bytes", "a Uint8Array of 4 or 16 bytes", bytes);
  }
  if (bytes.length === 4) return bytes.join(".");
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] << 8) | bytes[i + 1]).toString(16));
  return new URL(`http://[${groups.join(":")}]/`).hostname.slice(1, -1);
}

/**
 * A socket type of {@linkcode resolve}: `"tcp"` (stream), `"udp"` (datagram) or `"raw"`.
 *
 * @example
 * ```ts
 * import { resolve, type ResolveType } from "@netkit/netkit";
 *
 * const type: ResolveType = "udp";
 * console.log((await resolve("127.0.0.1", { type }))[0].protocol); // 17
 * ```
 */
export type ResolveType = "tcp" | "udp" | "raw";

/** One address from {@linkcode resolve}. */
export interface ResolvedAddress {
  /** `"inet"` for IPv4, `"inet6"` for IPv6. */
  family: "inet" | "inet6";
  /** The IP address (`"::ffff:127.0.0.1"` for an IPv4-mapped one). */
  address: string;
  /** The port, when one was asked for (a service name is given as its number). */
  port?: number;
  /**
   * The socket type this entry is for (getaddrinfo path only: every entry
   * has it; without `type`, each address comes once per type).
   *
   * @example
   * ```ts
   * import { resolve } from "@netkit/netkit";
   *
   * const [entry] = await resolve("127.0.0.1", { type: "udp" });
   * console.log(entry.type, entry.protocol); // "udp" 17
   * ```
   */
  type?: ResolveType;
  /**
   * The protocol number this entry is for (getaddrinfo path only: 6 for
   * tcp, 17 for udp, 0 for raw unless one was asked).
   *
   * @example
   * ```ts
   * import { resolve } from "@netkit/netkit";
   *
   * const [entry] = await resolve("127.0.0.1", { type: "tcp" });
   * console.log(entry.protocol); // 6
   * ```
   */
  protocol?: number;
  /**
   * The host's canonical name (with `canonicalName: true`), on every entry.
   *
   * @example
   * ```ts
   * import { resolve } from "@netkit/netkit";
   *
   * const [entry] = await resolve("localhost", { canonicalName: true, type: "tcp" });
   * console.log(entry.canonicalName); // "localhost"
   * ```
   */
  canonicalName?: string;
}

/**
 * Options of {@linkcode resolve}. `family`, a numeric `port` and the
 * deadline work everywhere; every other option (and a service name as
 * `port`, or no name at all) asks for getaddrinfo(3), which needs
 * `--allow-ffi`.
 */
export interface ResolveOptions {
  /** Only addresses of this family. */
  family?: "inet" | "inet6";
  /**
   * A port to attach to each result: a number, or (getaddrinfo path) a
   * service name from the services database, such as `"http"`.
   *
   * @example A service name
   * ```ts
   * import { resolve } from "@netkit/netkit";
   *
   * const [entry] = await resolve("localhost", { port: "http", type: "tcp" });
   * console.log(entry.port); // 80
   * ```
   */
  port?: number | string;
  /**
   * Only entries for this socket type (getaddrinfo's `ai_socktype`).
   *
   * @example
   * ```ts
   * import { resolve } from "@netkit/netkit";
   *
   * const entries = await resolve("localhost", { type: "udp" });
   * console.log(entries.every((e) => e.type === "udp")); // true
   * ```
   */
  type?: ResolveType;
  /**
   * Only entries for this protocol: a number from 0 to 255 or one of sock's
   * names `"ip"` (0), `"icmp"` (1), `"igmp"` (2), `"tcp"` (6), `"udp"` (17),
   * `"ipv6"` (41), `"icmpv6"` (58), `"raw"` (255).
   *
   * @example
   * ```ts
   * import { resolve } from "@netkit/netkit";
   *
   * const [entry] = await resolve("127.0.0.1", { protocol: "udp" });
   * console.log(entry.type); // "udp"
   * ```
   */
  protocol?: number | ResolveProtocolName;
  /**
   * Every entry carries the host's `canonicalName` (AI_CANONNAME; glibc
   * gives it on the first entry only, netkit copies it to the others).
   *
   * @example
   * ```ts
   * import { resolve } from "@netkit/netkit";
   *
   * const entries = await resolve("localhost", { canonicalName: true });
   * console.log(entries.every((e) => e.canonicalName === "localhost")); // true
   * ```
   */
  canonicalName?: boolean;
  /**
   * Addresses to bind to (AI_PASSIVE): with no name (`null`), the wildcard
   * addresses `0.0.0.0` and `::` instead of loopback.
   *
   * @example
   * ```ts
   * import { resolve } from "@netkit/netkit";
   *
   * const [entry] = await resolve(null, { passive: true, family: "inet", type: "tcp", port: 80 });
   * console.log(entry.address, entry.port); // "0.0.0.0" 80
   * ```
   */
  passive?: boolean;
  /**
   * The name must be an IP literal (AI_NUMERICHOST): a host name is
   * `name_not_resolved` without any lookup.
   *
   * @example
   * ```ts
   * import { resolve } from "@netkit/netkit";
   *
   * const [entry] = await resolve("127.0.0.1", { numericHost: true, type: "tcp" });
   * console.log(entry.address); // "127.0.0.1"
   * ```
   */
  numericHost?: boolean;
  /**
   * The port must be numeric (AI_NUMERICSERV): a service name is
   * `name_not_resolved` without reading the services database.
   *
   * @example
   * ```ts
   * import { resolve } from "@netkit/netkit";
   *
   * const [entry] = await resolve("127.0.0.1", { numericService: true, port: "8080", type: "tcp" });
   * console.log(entry.port); // 8080
   * ```
   */
  numericService?: boolean;
  /**
   * With `family: "inet6"`, a name that has IPv4 addresses only gives them
   * as IPv4-mapped IPv6 addresses (AI_V4MAPPED, `::ffff:a.b.c.d`).
   *
   * @example
   * ```ts
   * import { resolve } from "@netkit/netkit";
   *
   * const [entry] = await resolve("127.0.0.1", { family: "inet6", v4Mapped: true, type: "tcp" });
   * console.log(entry.address); // "::ffff:127.0.0.1"
   * ```
   */
  v4Mapped?: boolean;
  /**
   * Only families the host has a non-loopback address of (AI_ADDRCONFIG).
   * On a host with loopback only, a lookup of any family keeps everything,
   * and one of a single family finds nothing.
   *
   * @example
   * ```ts
   * import { resolve } from "@netkit/netkit";
   *
   * const entries = await resolve("localhost", { addrConfig: true, type: "tcp" });
   * console.log(entries.length > 0); // true
   * ```
   */
  addrConfig?: boolean;
  /**
   * With `v4Mapped`: the IPv6 addresses and the mapped IPv4 ones (AI_ALL).
   *
   * @example
   * ```ts
   * import { resolve } from "@netkit/netkit";
   *
   * const entries = await resolve("localhost", {
   *   family: "inet6",
   *   v4Mapped: true,
   *   all: true,
   *   type: "tcp",
   * });
   * console.log(entries.some((e) => e.address === "::ffff:127.0.0.1")); // true
   * ```
   */
  all?: boolean;
  /**
   * Milliseconds before the lookup rejects `timeout`. A lookup cannot be
   * cancelled: it finishes on its own (getaddrinfo: on its runtime thread,
   * and its answer is freed then).
   *
   * @example
   * ```ts
   * import { resolve } from "@netkit/netkit";
   *
   * const entries = await resolve("localhost", { timeout: 5000 });
   * console.log(entries[0].address); // "127.0.0.1"
   * ```
   */
  timeout?: number;
  /**
   * Rejects `aborted` when it aborts (the lookup itself goes on, as with
   * `timeout`).
   *
   * @example
   * ```ts
   * import { resolve } from "@netkit/netkit";
   *
   * const error = await resolve("localhost", { signal: AbortSignal.abort() }).catch((e) => e);
   * console.log(error.code); // "aborted"
   * ```
   */
  signal?: AbortSignal;
}

/**
 * The protocol names {@linkcode ResolveOptions.protocol} takes (sock's).
 *
 * @example
 * ```ts
 * import { resolve, type ResolveProtocolName } from "@netkit/netkit";
 *
 * const protocol: ResolveProtocolName = "icmp";
 * const [entry] = await resolve("127.0.0.1", { type: "raw", protocol });
 * console.log(entry.protocol); // 1
 * ```
 */
export type ResolveProtocolName =
  | "ip"
  | "icmp"
  | "igmp"
  | "tcp"
  | "udp"
  | "ipv6"
  | "icmpv6"
  | "raw";

const PROTOCOLS: Readonly<Record<ResolveProtocolName, number>> = {
  ip: 0,
  icmp: 1,
  igmp: 2,
  tcp: 6,
  udp: 17,
  ipv6: 41,
  icmpv6: 58,
  raw: 255,
};

/** A service name: letters, digits and `.`, `_`, `+`, `-` (or a decimal port). */
const SERVICE = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/;

const FLAGS = [
  "canonicalName",
  "passive",
  "numericHost",
  "numericService",
  "v4Mapped",
  "addrConfig",
  "all",
] as const;

const RESOLVE_RULES: Schema = {
  family: { type: "string", values: ["inet", "inet6"] },
  port: {
    type: "custom",
    accepts: 'an integer from 0 to 65535 or a service name such as "http"',
    check: (value) =>
      typeof value === "number"
        ? Number.isInteger(value) && value >= 0 && value <= 65535
        : typeof value === "string" && SERVICE.test(value) &&
          (!DIGITS.test(value) || Number(value) <= 65535),
  },
  type: { type: "string", values: ["tcp", "udp", "raw"] },
  protocol: {
    type: "custom",
    accepts: `an integer from 0 to 255 or one of ${
      Object.keys(PROTOCOLS).map((name) => JSON.stringify(name)).join(", ")
    }`,
    check: (value) =>
      typeof value === "number"
        ? Number.isInteger(value) && value >= 0 && value <= 255
        : typeof value === "string" && Object.hasOwn(PROTOCOLS, value),
  },
  ...Object.fromEntries(FLAGS.map((flag) => [flag, { type: "boolean" }])),
  ...DEADLINE_RULES,
};

const TYPE_OF: Readonly<Record<number, ResolveType>> = { 1: "tcp", 2: "udp", 3: "raw" };

/** Why the call needs getaddrinfo (for the `not_supported` message), or `undefined`. */
function needsGetaddrinfo(name: string | null, options: ResolveOptions): string | undefined {
  if (name === null) return "a lookup without a name (getaddrinfo)";
  if (typeof options.port === "string") return "a service name as port (getaddrinfo)";
  if (options.type !== undefined) return "the type option (getaddrinfo)";
  if (options.protocol !== undefined) return "the protocol option (getaddrinfo)";
  const flag = FLAGS.find((field) => options[field] === true);
  return flag === undefined ? undefined : `the ${flag} option (getaddrinfo)`;
}

/**
 * Looks a host name up through the system resolver (so the hosts file and
 * `localhost` work), like lsocket's `resolve` and sock's `addr`.
 *
 * Without getaddrinfo options, an IP literal resolves to itself without a
 * lookup and a name goes to the runtime's resolver: one entry per address.
 * With any of `type`, `protocol`, `canonicalName`, `passive`,
 * `numericHost`, `numericService`, `v4Mapped`, `addrConfig`, `all`, a
 * service name as `port`, or `name` `null`, the lookup is getaddrinfo(3)
 * on a runtime thread (`--allow-ffi`): one entry per address and socket
 * type, each with `type` and `protocol`. getaddrinfo cannot be cancelled: a
 * deadline that passes rejects at once while the call finishes on its
 * thread, and what it returns is freed then.
 *
 * @param name A host name or IP literal; `null` for none (getaddrinfo:
 *   loopback, or the wildcard with `passive`).
 * @param options Filters, a `port` to attach, getaddrinfo's flags, and
 *   `timeout`/`signal`.
 * @returns Every address, in the resolver's order.
 * @throws {NetError} `name_not_resolved` when nothing is found (also for a
 *   temporary failure, EAI_AGAIN, named in the message and as the cause's
 *   `code`), `invalid_argument` for a malformed name or option,
 *   `not_supported` naming `--allow-ffi` for a getaddrinfo option without
 *   it, `timeout`/`aborted` when the deadline passes.
 *
 * @example
 * ```ts
 * import { resolve } from "@netkit/netkit";
 *
 * const [first] = await resolve("localhost", { family: "inet" });
 * console.log(first.address); // "127.0.0.1"
 * ```
 *
 * @example getaddrinfo: canonical name, type and protocol
 * ```ts
 * import { resolve } from "@netkit/netkit";
 *
 * const [entry] = await resolve("localhost", { canonicalName: true, type: "tcp", port: "http" });
 * console.log(entry); // { family: "inet", address: "127.0.0.1", port: 80, type: "tcp", protocol: 6, canonicalName: "localhost" }
 * ```
 */
export async function resolve(
  name: string | null,
  options?: ResolveOptions,
): Promise<ResolvedAddress[]> {
  const opts = validateOptions<ResolveOptions>("resolve", options, RESOLVE_RULES);
  const host = name === null ? null : checkHost("resolve", name, "name");
  if (host === null && opts.canonicalName === true) {
    throw invalidArgument("resolve", "canonicalName", "false without a name", true);
  }
  const why = needsGetaddrinfo(host, opts);
  if (why !== undefined) return await resolveNative(host, opts, why);
  const { family } = opts;
  const port = opts.port as number | undefined;
  const deadline = Deadline.of(opts, "resolve", host!);
  deadline?.check();
  const withPort = (list: ResolvedAddress[]) =>
    port === undefined ? list : list.map((entry) => ({ ...entry, port }));
  const literal = isIP(host!);
  if (literal !== 0) {
    const own: ResolvedAddress["family"] = literal === 4 ? "inet" : "inet6";
    if (family !== undefined && family !== own) {
      throw new NetError("name_not_resolved", `${host} is not an ${family} address`, {
        op: "resolve",
        address: host!,
      });
    }
    return withPort([{ family: own, address: host! }]);
  }
  let found: { address: string; family: number }[];
  try {
    const pending = lookup(host!, {
      all: true,
      family: family === "inet" ? 4 : family === "inet6" ? 6 : 0,
    });
    trackLookup(pending);
    found = await (deadline === undefined ? pending : deadline.wait(pending));
  } catch (error) {
    // Deno's node:dns reports a missing --allow-net as a bare "EPERM".
    if ((error as { code?: unknown }).code === "EPERM") {
      throw new NetError(
        "access_denied",
        `Requires net access to "${host}", run again with the --allow-net flag`,
        { op: "resolve", address: host!, cause: error },
      );
    }
    throw toNetError(error, "resolve", host!, "name_not_resolved");
  } finally {
    deadline?.dispose();
  }
  if (found.length === 0) {
    throw new NetError("name_not_resolved", "no address found", { op: "resolve", address: host! });
  }
  return withPort(found.map(({ address, family }) => ({
    family: family === 6 ? "inet6" : "inet",
    address,
  })));
}

/** `resolve` through getaddrinfo(3) (the options are validated). */
async function resolveNative(
  host: string | null,
  opts: ResolveOptions,
  why: string,
): Promise<ResolvedAddress[]> {
  const label = host ?? undefined;
  const n = native("resolve", why, label);
  const deadline = Deadline.of(opts, "resolve", label);
  try {
    deadline?.check();
    const p = n.platform;
    const ai = p.AI;
    let flags = 0;
    if (opts.canonicalName) flags |= ai.CANONNAME;
    if (opts.passive) flags |= ai.PASSIVE;
    if (opts.numericHost) flags |= ai.NUMERICHOST;
    if (opts.numericService) flags |= ai.NUMERICSERV;
    if (opts.v4Mapped) flags |= ai.V4MAPPED;
    if (opts.addrConfig) flags |= ai.ADDRCONFIG;
    if (opts.all) flags |= ai.ALL;
    const asked = opts.port !== undefined;
    const entries = await getaddrinfo(
      n,
      {
        node: host,
        // getaddrinfo needs a name or a service: no name, no port → port 0.
        service: asked ? String(opts.port) : host === null ? "0" : null,
        family: opts.family === "inet"
          ? p.AF_INET
          : opts.family === "inet6"
          ? p.AF_INET6
          : p.AF_UNSPEC,
        socktype: opts.type === "tcp"
          ? p.SOCK_STREAM
          : opts.type === "udp"
          ? p.SOCK_DGRAM
          : opts.type === "raw"
          ? p.SOCK_RAW
          : 0,
        protocol: typeof opts.protocol === "string" ? PROTOCOLS[opts.protocol] : opts.protocol ?? 0,
        flags,
      },
      "resolve",
      label,
      deadline,
    );
    // glibc names the canonical name on the first entry only.
    const canonical = entries.find((entry) => entry.canonicalName !== null)?.canonicalName ??
      host ?? "";
    const results: ResolvedAddress[] = [];
    for (const entry of entries) {
      const type = TYPE_OF[entry.socktype];
      if (type === undefined) continue;
      const result: ResolvedAddress = { family: entry.family, address: entry.address };
      if (asked) result.port = entry.port;
      result.type = type;
      result.protocol = entry.protocol;
      if (opts.canonicalName) result.canonicalName = canonical;
      results.push(result);
    }
    if (results.length === 0) {
      throw new NetError("name_not_resolved", "no address found", {
        op: "resolve",
        address: label,
      });
    }
    return results;
  } finally {
    deadline?.dispose();
    idle();
  }
}

/** One address of a network interface. */
export interface InterfaceAddress {
  /** Interface name, e.g. `"lo"`. */
  name: string;
  /** `"inet"` or `"inet6"`. */
  family: "inet" | "inet6";
  /** The address. */
  address: string;
  /** The netmask. */
  netmask: string;
}

/**
 * Lists the network interfaces and their addresses (lsocket's
 * `getinterfaces`). Needs `--allow-sys=networkInterfaces`.
 *
 * @returns One entry per interface address.
 * @throws {NetError} `access_denied` without the permission.
 *
 * @example
 * ```ts
 * import { interfaces } from "@netkit/netkit";
 *
 * const loopback = interfaces().find((i) => i.address === "127.0.0.1");
 * console.log(loopback?.name); // "lo"
 * ```
 */
export function interfaces(): InterfaceAddress[] {
  try {
    return Deno.networkInterfaces().map((entry) => ({
      name: entry.name,
      family: entry.family === "IPv6" ? "inet6" : "inet",
      address: entry.address,
      netmask: entry.netmask,
    }));
  } catch (error) {
    throw toNetError(error, "interfaces");
  }
}
