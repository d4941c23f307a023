/**
 * Address checks and labels shared by every module: one place that checks
 * ports and hosts, splits the `("host:port", options)` and `(options)` call
 * forms, and formats addresses for messages.
 *
 * @module
 */

import { isIP } from "node:net";
import { type HostPort, parseAddress } from "./address.ts";
import { NetError } from "./errors.ts";
import { invalidArgument, type Schema, validateOptions } from "./_options.ts";

/** A host name: labels of letters, digits, `_` and `-`. */
export const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62})(?:\.[A-Za-z0-9_-]{1,63})*\.?$/;

/**
 * Checks a port number: an integer from `min` (0 for a local port, 1 for a
 * destination) to 65535.
 *
 * @throws {NetError} `invalid_argument` naming `field`.
 */
export function checkPort(op: string, port: unknown, field = "port", min = 0): number {
  if (typeof port !== "number" || !Number.isInteger(port) || port < min || port > 65535) {
    throw invalidArgument(op, field, `an integer from ${min} to 65535`, port);
  }
  return port;
}

let lastHost = "";
let lastVersion = 0;

/**
 * `isIP` with a one-entry memory: a program connects to the same few hosts
 * again and again, and the check runs on every `connect`.
 *
 * @returns 4, 6, or 0 when `host` is no IP literal.
 */
export function ipVersion(host: string): number {
  if (host !== lastHost) {
    lastVersion = isIP(host);
    lastHost = host;
  }
  return lastVersion;
}

/**
 * Checks a host: an IPv4 or IPv6 literal (brackets allowed) or a host name.
 * Returns it without brackets.
 *
 * @throws {NetError} `invalid_argument` naming `field`.
 */
export function checkHost(op: string, host: unknown, field = "hostname"): string {
  if (typeof host === "string") {
    const bare = stripBrackets(host);
    const version = ipVersion(bare);
    if (version === 6 || (version === 4 && bare === host)) return bare;
    if (bare === host && HOSTNAME.test(host) && !/^[\d.]+$/.test(host)) return host;
  }
  throw invalidArgument(
    op,
    field,
    "an IPv4 or IPv6 address or a host name",
    host,
  );
}

/**
 * Lookups in flight. The system resolver cannot be cancelled: a caller that
 * gave up on one (a `connect` whose deadline passed) leaves it running until
 * the resolver answers. Tests wait for them with {@linkcode lookupsSettled}.
 */
const lookups = new Set<Promise<unknown>>();

/** Counts a lookup in flight until it settles. */
export function trackLookup(pending: Promise<unknown>): void {
  lookups.add(pending);
  const forget = () => lookups.delete(pending);
  pending.then(forget, forget);
}

/** Resolves once every lookup netkit started has finished (for tests). */
export async function lookupsSettled(): Promise<void> {
  while (lookups.size > 0) await Promise.allSettled([...lookups]);
}

/**
 * `"host:port"` for messages, with an IPv6 host in brackets (`"[::1]:80"`).
 * Internal: no checks, for addresses netkit already holds.
 */
export function hostPortLabel(hostname: string, port: number): string {
  return hostname.includes(":") ? `[${hostname}]:${port}` : `${hostname}:${port}`;
}

/** Formats a Deno address for messages: `"ip:port"`, `"[v6]:port"` or a path. */
export function describeAddress(address: Deno.Addr | null | undefined): string | undefined {
  if (!address) return undefined;
  if (address.transport === "tcp" || address.transport === "udp") {
    return hostPortLabel(address.hostname, address.port);
  }
  return "path" in address ? address.path ?? undefined : undefined;
}

/** `host` without the brackets of a bracketed IPv6 literal (`"[::1]"` → `"::1"`). */
export function stripBrackets(host: string): string {
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}

/** The address forms every `"host:port"` argument accepts, for messages. */
const ADDRESS_FORMS = '"ip:port", "[ipv6]:port", "host:port", ":port" or an IP address';

/**
 * Parses a `"host:port"` argument; a malformed one is `invalid_argument`
 * naming `address`, in one wording for every entry point.
 */
export function addressArgument(op: string, text: string): HostPort {
  try {
    return parseAddress(text);
  } catch {
    throw invalidArgument(op, "address", ADDRESS_FORMS, text);
  }
}

/**
 * The two call forms of every entry point that takes an address and
 * options: `(address: string, options?)` and `(options?)`. Returns one plain
 * options object, read once and checked against `schema`, with the string's
 * `hostname` and `port` in it (a field given both ways is
 * `invalid_argument` naming it).
 */
export function addressForm<T extends Partial<HostPort>>(
  op: string,
  first: unknown,
  second: unknown,
  schema: Schema,
): T {
  if (typeof first !== "string") {
    if (second !== undefined) {
      throw invalidArgument(
        op,
        "options",
        `the only argument after an options object (or pass ${op}("host:port", options))`,
        second,
      );
    }
    return validateOptions<T>(op, first, schema);
  }
  const parsed = addressArgument(op, first);
  const options = validateOptions<T>(op, second, schema);
  for (const field of ["hostname", "port"] as const) {
    if (options[field] !== undefined) {
      throw new NetError(
        "invalid_argument",
        `${field} is given twice: in the address string and in the options`,
        { op, field },
      );
    }
  }
  return { ...options, ...parsed };
}
