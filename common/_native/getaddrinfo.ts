/**
 * The full getaddrinfo(3): canonical names, socket type and protocol per
 * entry, service names as ports and every `AI_*` flag, for `resolve`.
 *
 * The call runs on a runtime thread (a `nonblocking: true` symbol), so a
 * slow resolver blocks that thread only. getaddrinfo cannot be cancelled:
 * a caller whose deadline passes gets `timeout` (or `aborted`) at once,
 * while the call goes on until the resolver answers; its list is then
 * read and freed with freeaddrinfo like any other. The C library stays
 * held (`hold()`) from the call until it returned, so it is never closed
 * under a pending call, and the pending lookup is tracked with the other
 * lookups (tests wait for it with `lookupsSettled`).
 *
 * @module
 */

import { NetError } from "../errors.ts";
import { trackLookup } from "../_address.ts";
import type { Deadline } from "../_deadline.ts";
import { hold, type Native, unhold } from "./libc.ts";

/** What the caller asks getaddrinfo for (already validated). */
export interface AddrinfoQuery {
  /** The host, or `null` for none (the wildcard with `passive`, else loopback). */
  node: string | null;
  /** The service: a decimal port or a service name, or `null` for none. */
  service: string | null;
  /** `AF_*` number, `AF_UNSPEC` for any. */
  family: number;
  /** `SOCK_*` number, 0 for any. */
  socktype: number;
  /** Protocol number, 0 for any. */
  protocol: number;
  /** `AI_*` bits. */
  flags: number;
}

/** One entry of the list getaddrinfo returned, decoded. */
export interface AddrinfoEntry {
  family: "inet" | "inet6";
  /** The address in its usual text form (`"::ffff:127.0.0.1"` for a mapped one). */
  address: string;
  port: number;
  /** `SOCK_*` number. */
  socktype: number;
  /** Protocol number. */
  protocol: number;
  /** The entry's own `ai_canonname` (glibc sets it on the first entry only). */
  canonicalName: string | null;
}

/** Counts for tests: calls made, calls returned, lists freed. */
const counts = { started: 0, returned: 0, freed: 0 };

/**
 * How many getaddrinfo calls were started and have returned, and how many
 * returned lists were freed (for tests: every list is freed, and a call
 * whose caller gave up still returns).
 */
export function addrinfoCounts(): Readonly<typeof counts> {
  return { ...counts };
}

const encoder = new TextEncoder();

/** A NUL-terminated copy of `text` for C, or `null`. */
function cString(text: string | null): Uint8Array | null {
  if (text === null) return null;
  const bytes = new Uint8Array(text.length * 3 + 1);
  const { written } = encoder.encodeInto(text, bytes);
  return bytes.subarray(0, written + 1);
}

/** IPv4 bytes as dotted decimal. */
function ipv4(bytes: Uint8Array, from: number): string {
  return `${bytes[from]}.${bytes[from + 1]}.${bytes[from + 2]}.${bytes[from + 3]}`;
}

/**
 * IPv6 bytes in RFC 5952 form, as inet_ntop writes them: the longest run
 * of two or more zero groups (the first of equal runs) becomes `::`, and
 * an IPv4-mapped address ends in dotted decimal.
 */
export function ipv6Text(bytes: Uint8Array, from = 0): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push((bytes[from + 2 * i] << 8) | bytes[from + 2 * i + 1]);
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${ipv4(bytes, from + 12)}`;
  }
  let best = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      best = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best < 0) return hex.join(":");
  return `${hex.slice(0, best).join(":")}::${hex.slice(best + bestLength).join(":")}`;
}

/** The `EAI_*` name of a result, e.g. `"EAI_NONAME"`. */
function eaiName(n: Native, result: number): string {
  for (const [name, value] of Object.entries(n.platform.EAI)) {
    if (value === result) return `EAI_${name}`;
  }
  return `getaddrinfo error ${result}`;
}

/** gai_strerror's text for a result. */
function eaiText(n: Native, result: number): string {
  const text = n.sym.gai_strerror(result);
  return text === null ? "unknown error" : Deno.UnsafePointerView.getCString(text);
}

/**
 * The NetError of a failed getaddrinfo: the code netkit gives its `EAI_*`
 * name, with gai_strerror's text and the name in the message (and as the
 * cause's `code`).
 */
function failure(
  n: Native,
  result: number,
  query: AddrinfoQuery,
  op: string,
  address: string | undefined,
): NetError {
  const eai = n.platform.EAI;
  const name = eaiName(n, result);
  const text = eaiText(n, result);
  const cause = Object.assign(new Error(`getaddrinfo failed: ${text} (${name})`), { code: name });
  const invalid = (field: string) =>
    new NetError("invalid_argument", `${field}: ${text} (${name})`, { op, address, field, cause });
  switch (result) {
    case eai.BADFLAGS:
      return invalid("options");
    case eai.FAMILY:
      return invalid("family");
    case eai.SOCKTYPE:
      return invalid(query.protocol !== 0 ? "protocol" : "type");
    case eai.MEMORY:
    case eai.OVERFLOW:
      return new NetError("resource_exhausted", `${text} (${name})`, { op, address, cause });
    case eai.SYSTEM:
      // errno belongs to the runtime thread that made the call: not readable here.
      return new NetError("unknown", `${text} (${name})`, { op, address, cause });
    case eai.SERVICE: {
      const what = query.service === null ? "" : `service ${JSON.stringify(query.service)}: `;
      return new NetError("name_not_resolved", `${what}${text} (${name})`, {
        op,
        address,
        cause,
      });
    }
    default:
      // NONAME, NODATA, ADDRFAMILY, FAIL, and AGAIN (temporary: the cause's code says so).
      return new NetError("name_not_resolved", `${text} (${name})`, { op, address, cause });
  }
}

/** Reads the list at `head` (entries of families netkit knows; others are skipped). */
function readList(n: Native, head: Deno.PointerObject): AddrinfoEntry[] {
  const p = n.platform;
  const at = p.addrinfo;
  const entries: AddrinfoEntry[] = [];
  const sockaddr = new Uint8Array(28);
  // Bounded: a list longer than this is not one glibc makes.
  for (let node: Deno.PointerValue = head, count = 0; node !== null && count < 4096; count++) {
    const view: Deno.UnsafePointerView = new Deno.UnsafePointerView(node);
    const family = view.getInt32(at.family);
    const length = view.getUint32(at.addrlen);
    const addr = view.getPointer(at.addr);
    const canon = view.getPointer(at.canonname);
    const entry = {
      socktype: view.getInt32(at.socktype),
      protocol: view.getInt32(at.protocol),
      canonicalName: canon === null ? null : Deno.UnsafePointerView.getCString(canon),
    };
    node = view.getPointer(at.next);
    if (addr === null) continue;
    const bytes = sockaddr.subarray(0, Math.min(length, sockaddr.length));
    Deno.UnsafePointerView.copyInto(addr, bytes);
    const port = (bytes[2] << 8) | bytes[3];
    if (family === p.AF_INET && length >= 8) {
      entries.push({ family: "inet", address: ipv4(bytes, 4), port, ...entry });
    } else if (family === p.AF_INET6 && length >= 24) {
      // sin6_scope_id (host order), for a link-local address: "fe80::1%2".
      const scope = length >= 28
        ? (bytes[24] | (bytes[25] << 8) | (bytes[26] << 16) | (bytes[27] << 24)) >>> 0
        : 0;
      const text = ipv6Text(bytes, 8) + (scope === 0 ? "" : `%${scope}`);
      entries.push({ family: "inet6", address: text, port, ...entry });
    }
  }
  return entries;
}

/**
 * Calls getaddrinfo on a runtime thread and returns its list, decoded. The
 * list is freed on every path (read, failed read, caller gone); a deadline
 * that passes first rejects at once and leaves the call to finish alone.
 *
 * @param n The opened C library.
 * @param query What to ask (validated by the caller).
 * @param op The netkit operation errors name.
 * @param address The name errors show.
 * @param deadline The caller's deadline, if any (checked by the caller before).
 * @returns The entries, in getaddrinfo's order.
 * @throws {NetError} the code of getaddrinfo's `EAI_*` answer; `timeout` /
 *   `aborted` when the deadline passes first.
 */
export function getaddrinfo(
  n: Native,
  query: AddrinfoQuery,
  op: string,
  address: string | undefined,
  deadline?: Deadline,
): Promise<AddrinfoEntry[]> {
  const at = n.platform.addrinfo;
  const hints = new Uint8Array(at.size);
  const view = new DataView(hints.buffer);
  view.setInt32(at.flags, query.flags, true);
  view.setInt32(at.family, query.family, true);
  view.setInt32(at.socktype, query.socktype, true);
  view.setInt32(at.protocol, query.protocol, true);
  const node = cString(query.node);
  const service = cString(query.service);
  const out = new BigUint64Array(1);
  hold();
  let call: Promise<number>;
  try {
    call = n.sym.getaddrinfo(node, service, hints, out);
    counts.started++;
  } catch (error) {
    unhold();
    throw error;
  }
  // The buffers above stay referenced by this closure until the call returned.
  const landed = call.then((result) => {
    counts.returned++;
    try {
      if (result !== 0) throw failure(n, result, query, op, address);
      const head = Deno.UnsafePointer.create(out[0]);
      if (head === null) return [];
      try {
        return readList(n, head);
      } finally {
        n.sym.freeaddrinfo(head);
        counts.freed++;
      }
    } finally {
      void node, service, hints;
      unhold();
    }
  }, (error) => {
    counts.returned++;
    unhold();
    throw error;
  });
  trackLookup(landed);
  return deadline === undefined ? landed : deadline.wait(landed);
}
