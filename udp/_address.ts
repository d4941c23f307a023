/**
 * Address rules of UDP sockets: which destinations a socket's family can
 * reach, the largest payload per family, and the canonical form senders are
 * compared in.
 *
 * @module
 */

import { isIP } from "node:net";
import { NetError } from "../common/errors.ts";
import { toNetError } from "../common/_errors.ts";
import { resolve } from "../common/address.ts";
import { invalidArgument, validateArgument } from "../common/_options.ts";

/** A socket's family: IPv4, IPv6 on one address, or dual-stack `"::"`. */
export type Family = "v4" | "v6" | "dual";

/** The largest UDP payload over IPv4 (65535 − 20 − 8). */
export const MAX_PAYLOAD_V4 = 65507;
/** The largest UDP payload over IPv6 without jumbograms (65535 − 8). */
export const MAX_PAYLOAD_V6 = 65527;

/** The family of a socket bound to `hostname`. */
export function familyOf(hostname: string): Family {
  if (hostname === "::") return "dual";
  return hostname.includes(":") ? "v6" : "v4";
}

/**
 * An IP literal in the form Deno reports senders in: IPv4 dotted, an
 * IPv4-mapped IPv6 address as its IPv4 form, IPv6 compressed and lower-case.
 */
export function canonicalIP(ip: string): string {
  if (isIP(ip) === 4) return ip;
  let text: string;
  try {
    text = new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  } catch {
    return ip.toLowerCase();
  }
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(text);
  if (mapped === null) return text;
  const high = parseInt(mapped[1], 16);
  const low = parseInt(mapped[2], 16);
  return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
}

/** True for an IPv4 (224.0.0.0/4) or IPv6 (ff00::/8) multicast literal. */
export function isMulticast(ip: string): boolean {
  const kind = isIP(ip);
  if (kind === 4) {
    const first = Number(ip.slice(0, ip.indexOf(".")));
    return first >= 224 && first <= 239;
  }
  return kind === 6 && /^ff/i.test(ip);
}

/** A checked destination. */
export interface Destination {
  /** What Deno's `send` takes. */
  addr: Deno.NetAddr;
  /** The largest payload to it. */
  max: number;
}

/**
 * Checks that a socket of `family` can reach the IP literal `ip`.
 *
 * @throws {NetError} `invalid_argument` naming `field` when it cannot.
 */
export function destination(
  op: string,
  family: Family,
  ip: string,
  port: number,
  field: string,
  label: string | undefined,
): Destination {
  const host = canonicalIP(ip);
  const v4 = isIP(host) === 4;
  if (v4 && family === "v6") {
    throw new NetError(
      "invalid_argument",
      `a socket bound to one IPv6 address cannot send to the IPv4 address ${ip}; ` +
        `bind to "::" (dual-stack) or "0.0.0.0"`,
      { op, address: label, field },
    );
  }
  if (!v4 && family === "v4") {
    throw new NetError(
      "invalid_argument",
      `an IPv4 socket cannot send to the IPv6 address ${ip}; bind to "::" or an IPv6 address`,
      { op, address: label, field },
    );
  }
  return {
    addr: { transport: "udp", hostname: host, port },
    max: v4 ? MAX_PAYLOAD_V4 : MAX_PAYLOAD_V6,
  };
}

/**
 * Resolves a host name or literal to one IP a socket of `family` can reach
 * (IPv4 first for dual-stack sockets, like Deno's own resolution order).
 *
 * @throws {NetError} `name_not_resolved`, `invalid_argument`.
 */
export async function resolveFor(
  op: string,
  family: Family,
  host: string,
  field: string,
): Promise<string> {
  if (isIP(host) !== 0) return host;
  try {
    const found = await resolve(host, {
      family: family === "v4" ? "inet" : family === "v6" ? "inet6" : undefined,
    });
    return (found.find((entry) => entry.family === "inet") ?? found[0]).address;
  } catch (error) {
    const failure = toNetError(error, op, host);
    throw new NetError(failure.code, failure.detail, {
      op,
      address: host,
      field: failure.code === "invalid_argument" ? field : undefined,
      cause: failure.cause ?? error,
    });
  }
}

/**
 * Checks a multicast membership before anything is joined (or opened): a
 * group literal the socket's family can join, and an interface of the
 * group's kind (an IPv4 address, or an IPv6 interface index).
 *
 * @returns The group's family and the interface to join on (the kernel's
 *   choice when none was given).
 * @throws {NetError} `invalid_argument` naming the field.
 */
export function checkMembership(
  op: string,
  family: Family,
  group: unknown,
  iface: unknown,
  label: string | undefined,
): { v4: boolean; iface: string | number } {
  if (typeof group !== "string" || !isMulticast(group)) {
    throw invalidArgument(
      op,
      "group",
      "an IPv4 (224.0.0.0/4) or IPv6 (ff00::/8) group",
      group,
    );
  }
  const v4 = isIP(group) === 4;
  if (v4 ? family === "v6" : family === "v4") {
    throw new NetError(
      "invalid_argument",
      `an ${v4 ? "IPv6" : "IPv4"} socket cannot join the ${v4 ? "IPv4" : "IPv6"} group ${group}`,
      { op, address: label, field: "group" },
    );
  }
  if (v4) {
    if (iface !== undefined && (typeof iface !== "string" || isIP(iface) !== 4)) {
      throw invalidArgument(op, "iface", "the interface's IPv4 address", iface);
    }
    return { v4, iface: iface ?? "0.0.0.0" };
  }
  if (iface !== undefined) {
    validateArgument(op, "iface", iface, { type: "integer", min: 0, max: 0xffffffff });
  }
  return { v4, iface: (iface as number | undefined) ?? 0 };
}

/**
 * Checks an interface to send multicast on: an IPv4 address for an IPv4 or
 * dual-stack socket, an interface index for an IPv6 or dual-stack one.
 *
 * @throws {NetError} `invalid_argument` naming `field`.
 */
export function checkSendInterface(
  op: string,
  field: string,
  family: Family,
  iface: unknown,
): void {
  if (typeof iface === "string" && isIP(iface) === 4 && family !== "v6") return;
  if (
    typeof iface === "number" && Number.isInteger(iface) && iface >= 0 && iface <= 0x7fffffff &&
    family !== "v4"
  ) return;
  const accepts = family === "v4"
    ? "the interface's IPv4 address (an IPv4 socket)"
    : family === "v6"
    ? "the interface's index (an IPv6 socket)"
    : "an interface's IPv4 address or an interface index";
  throw invalidArgument(op, field, accepts, iface);
}
