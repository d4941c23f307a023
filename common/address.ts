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
import { invalidArgument, validateOptions } from "./_options.ts";

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

/** One address from {@linkcode resolve}. */
export interface ResolvedAddress {
  /** `"inet"` for IPv4, `"inet6"` for IPv6. */
  family: "inet" | "inet6";
  /** The IP address. */
  address: string;
  /** The port, when one was asked for. */
  port?: number;
}

/** Options of {@linkcode resolve}. */
export interface ResolveOptions {
  /** Only addresses of this family. */
  family?: "inet" | "inet6";
  /** A port to attach to each result. */
  port?: number;
}

/**
 * Looks a host name up through the system resolver (so the hosts file and
 * `localhost` work), like lsocket's `resolve` and sock's `addr`. An IP
 * literal resolves to itself without a lookup.
 *
 * @param name A host name or IP literal.
 * @param options `family` filter and a `port` to attach.
 * @returns Every address, in the resolver's order.
 * @throws {NetError} `name_not_resolved` when nothing is found,
 *   `invalid_argument` for a malformed name.
 *
 * @example
 * ```ts
 * import { resolve } from "@netkit/netkit";
 *
 * const [first] = await resolve("localhost", { family: "inet" });
 * console.log(first.address); // "127.0.0.1"
 * ```
 */
export async function resolve(
  name: string,
  options?: ResolveOptions,
): Promise<ResolvedAddress[]> {
  const { family, port } = validateOptions<ResolveOptions>("resolve", options, {
    family: { type: "string", values: ["inet", "inet6"] },
    port: { type: "integer", min: 0, max: 65535 },
  });
  const host = checkHost("resolve", name, "name");
  const withPort = (list: ResolvedAddress[]) =>
    port === undefined ? list : list.map((entry) => ({ ...entry, port }));
  const literal = isIP(host);
  if (literal !== 0) {
    const own: ResolvedAddress["family"] = literal === 4 ? "inet" : "inet6";
    if (family !== undefined && family !== own) {
      throw new NetError("name_not_resolved", `${host} is not an ${family} address`, {
        op: "resolve",
        address: host,
      });
    }
    return withPort([{ family: own, address: host }]);
  }
  let found: { address: string; family: number }[];
  try {
    const pending = lookup(host, {
      all: true,
      family: family === "inet" ? 4 : family === "inet6" ? 6 : 0,
    });
    trackLookup(pending);
    found = await pending;
  } catch (error) {
    // Deno's node:dns reports a missing --allow-net as a bare "EPERM".
    if ((error as { code?: unknown }).code === "EPERM") {
      throw new NetError(
        "access_denied",
        `Requires net access to "${host}", run again with the --allow-net flag`,
        { op: "resolve", address: host, cause: error },
      );
    }
    throw toNetError(error, "resolve", host, "name_not_resolved");
  }
  if (found.length === 0) {
    throw new NetError("name_not_resolved", "no address found", { op: "resolve", address: host });
  }
  return withPort(found.map(({ address, family }) => ({
    family: family === 6 ? "inet6" : "inet",
    address,
  })));
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
