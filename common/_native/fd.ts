/**
 * Finding the descriptor of a runtime socket. Deno shows none, but the
 * process's own table does: list `/proc/self/fd`, ask each socket its
 * kernel name (getsockname) and, for streams, its peer's (getpeername),
 * and keep the one whose names, type and listening state are the object's.
 *
 * The answer must be certain. A socket is identified for good by its
 * cookie (SO_COOKIE: a 64-bit number the kernel never reuses), so a cached
 * descriptor is checked before each use and claims tell objects apart:
 *
 * - A TCP connection's four addresses are unique (the kernel guarantees
 *   it), so a candidate from an earlier scan that still shows them is the
 *   socket: one scan serves every connection asked about after it.
 * - Anything else (UDP and listeners, which may share an address; unix
 *   streams, which all show their listener's name and an unnamed peer) is
 *   looked up in a fresh scan, minus the descriptors other objects hold. One
 *   candidate left is the socket; more than one is `not_supported` — never a
 *   guess.
 * - Unix streams accepted by a listener that was asked about (the listener,
 *   or one of its streams) are identified when their accept lands: one accept
 *   is in flight per listener, so the one socket of that name that was not
 *   there at the previous landing is the new one. Nobody pays this until asked.
 *
 * @module
 */

import { addressToBytes } from "../address.ts";
import { NetError } from "../errors.ts";
import { hold, type Native, unhold } from "./libc.ts";

/** How the kernel must see a socket for it to be the object's. */
export interface SocketMatch {
  /** The key of its own name (see {@linkcode addrKey}). */
  local: string;
  /** The key of its peer's name; `""` for none (a listener); `undefined` not checked (datagrams). */
  peer: string | undefined;
  /** SOCK_STREAM or SOCK_DGRAM. */
  type: number;
  /** Whether it must be listening. */
  listening: boolean;
  /** True when the kernel guarantees no other socket matches (a TCP connection). */
  unique: boolean;
}

/** A descriptor found for an object, with the socket's lasting identity. */
export interface Located {
  fd: number;
  cookie: bigint;
}

const SOCKADDR_SIZE = 128;
const nameBuffer = new Uint8Array(SOCKADDR_SIZE);
const nameLength = new Uint8Array(4);
const nameLength32 = new Uint32Array(nameLength.buffer);
const valueBuffer = new Uint8Array(8);
const valueView = new DataView(valueBuffer.buffer);
const valueLength = new Uint8Array(4);
const valueLength32 = new Uint32Array(valueLength.buffer);
const encoder = new TextEncoder();
const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

function hexOf(bytes: Uint8Array, from: number, to: number): string {
  let out = "";
  for (let i = from; i < to; i++) out += HEX[bytes[i]];
  return out;
}

function latin1(bytes: Uint8Array, from: number, to: number): string {
  let out = "";
  for (let i = from; i < to; i++) out += String.fromCharCode(bytes[i]);
  return out;
}

/** The key of a kernel `sockaddr` (Linux layout: a 16-bit family first). */
function sockaddrKey(n: Native, bytes: Uint8Array, length: number): string {
  const p = n.platform;
  const family = bytes[0] | (bytes[1] << 8);
  if (family === p.AF_INET && length >= 8) {
    return `4|${hexOf(bytes, 4, 8)}|${(bytes[2] << 8) | bytes[3]}`;
  }
  if (family === p.AF_INET6 && length >= 24) {
    return `6|${hexOf(bytes, 8, 24)}|${(bytes[2] << 8) | bytes[3]}`;
  }
  if (family === p.AF_UNIX) {
    if (length <= 2) return "u|";
    let end = length;
    if (bytes[2] !== 0) {
      end = bytes.indexOf(0, 2);
      if (end === -1 || end > length) end = length;
    }
    return "u|" + latin1(bytes, 2, end);
  }
  return `?${family}|${hexOf(bytes, 2, Math.min(length, SOCKADDR_SIZE))}`;
}

/**
 * The key of a runtime address, equal to {@linkcode sockaddrKey} of the
 * kernel's name for it.
 *
 * @param addr A `Deno.NetAddr` or `Deno.UnixAddr` (`path: null` is unnamed).
 */
export function addrKey(addr: Deno.Addr): string {
  if (addr.transport === "tcp" || addr.transport === "udp") {
    const hostname = addr.hostname.split("%")[0];
    const bytes = addressToBytes(hostname);
    return `${bytes.length === 4 ? 4 : 6}|${hexOf(bytes, 0, bytes.length)}|${addr.port}`;
  }
  const path = (addr as Deno.UnixAddr).path;
  if (path === null || path === undefined || path === "") return "u|";
  const bytes = encoder.encode(path);
  return "u|" + latin1(bytes, 0, bytes.length);
}

/** The key of `fd`'s own name (peer: its peer's); `null` without one (ENOTCONN); `undefined` if no socket. */
function nameKey(n: Native, fd: number, peer: boolean): string | null | undefined {
  nameLength32[0] = SOCKADDR_SIZE;
  const result = peer
    ? n.sym.getpeername(fd, nameBuffer, nameLength)
    : n.sym.getsockname(fd, nameBuffer, nameLength);
  if (result !== 0) return peer && n.errnoName(n.errno()) === "ENOTCONN" ? null : undefined;
  return sockaddrKey(n, nameBuffer, Math.min(nameLength32[0], SOCKADDR_SIZE));
}

/** An integer socket option of `fd`, or `undefined` when it cannot be read. */
function intOption(n: Native, fd: number, name: number): number | undefined {
  valueLength32[0] = 4;
  if (n.sym.getsockopt(fd, n.platform.SOL_SOCKET, name, valueBuffer, valueLength) !== 0) {
    return undefined;
  }
  return valueView.getInt32(0, true);
}

/**
 * The socket's cookie: a number the kernel gives one socket and never
 * reuses (SO_COOKIE, Linux 4.12+); `undefined` when `fd` is no socket.
 */
export function cookieOf(n: Native, fd: number): bigint | undefined {
  valueLength32[0] = 8;
  if (n.sym.getsockopt(fd, n.platform.SOL_SOCKET, n.platform.SO.COOKIE, valueBuffer, valueLength)) {
    return undefined;
  }
  return valueView.getBigUint64(0, true);
}

const DIRENT_BUFFER = 64 * 1024;
let direntBuffer: Uint8Array | undefined;

/** Every descriptor number open in this process, from one or a few getdents64 calls. */
export function listDescriptors(n: Native): number[] {
  const p = n.platform;
  const path = encoder.encode(p.fdDirectory + "\0");
  const dir = n.sym.open(path, p.O_RDONLY | p.O_DIRECTORY | p.O_CLOEXEC);
  if (dir < 0) throw n.fail(`open(${p.fdDirectory})`, "fileno");
  const buffer = direntBuffer ??= new Uint8Array(DIRENT_BUFFER);
  const view = new DataView(buffer.buffer);
  const out: number[] = [];
  try {
    for (;;) {
      const got = Number(
        n.sym.syscall(BigInt(p.SYS_getdents64), BigInt(dir), buffer, BigInt(buffer.length)),
      );
      if (got < 0) throw n.fail("getdents64", "fileno");
      if (got === 0) break;
      for (let at = 0; at < got;) {
        const length = view.getUint16(at + p.direntReclen, true);
        let value = 0;
        let digits = 0;
        for (let i = at + p.direntName; buffer[i] !== 0; i++) {
          const digit = buffer[i] - 48;
          if (digit < 0 || digit > 9) {
            digits = 0;
            break;
          }
          value = value * 10 + digit;
          digits++;
        }
        if (digits > 0 && value !== dir) out.push(value);
        at += length;
      }
    }
  } finally {
    n.sym.close(dir);
  }
  return out;
}

/** One look at the process's sockets: every socket's own name, peers read when needed. */
class Scan {
  readonly byLocal = new Map<string, number[]>();
  readonly #peers = new Map<number, string | null>();
  readonly #byPair = new Map<string, number[]>();
  readonly #paired = new Set<string>();

  constructor(n: Native) {
    for (const fd of listDescriptors(n)) {
      const key = nameKey(n, fd, false);
      if (typeof key !== "string") continue;
      const list = this.byLocal.get(key);
      if (list === undefined) this.byLocal.set(key, [fd]);
      else list.push(fd);
    }
  }

  /** The sockets named `local` whose peer is `peer` (`""`: none); peers of that name read once. */
  withPeer(n: Native, local: string, peer: string): number[] {
    if (!this.#paired.has(local)) {
      this.#paired.add(local);
      for (const fd of this.byLocal.get(local) ?? []) {
        const key = nameKey(n, fd, true) ?? "";
        this.#peers.set(fd, key);
        const pair = `${local}\n${key}`;
        const list = this.#byPair.get(pair);
        if (list === undefined) this.#byPair.set(pair, [fd]);
        else list.push(fd);
      }
    }
    return this.#byPair.get(`${local}\n${peer}`) ?? [];
  }
}

/** The last scan: its TCP connections are still valid answers once re-checked. */
let lastScan: Scan | undefined;

/** The descriptors other objects hold: fd → the socket's cookie and its owner. */
const claims = new Map<number, { cookie: bigint; owner: object }>();
/** Owners holding a descriptor now. */
const holders = new WeakSet<object>();
/** Objects whose socket was identified at its accept, before anyone asked. */
const identified = new WeakMap<object, Located>();

function claimedByOther(n: Native, fd: number, owner: object): boolean {
  const claim = claims.get(fd);
  if (claim === undefined || claim.owner === owner) return false;
  if (cookieOf(n, fd) === claim.cookie) return true;
  claims.delete(fd); // the holder's socket is gone; the number is someone else's now
  return false;
}

/** Whether `fd` shows everything `match` asks for, re-read now. */
function shows(n: Native, fd: number, match: SocketMatch): boolean {
  if (nameKey(n, fd, false) !== match.local) return false;
  if (match.peer !== undefined && (nameKey(n, fd, true) ?? "") !== match.peer) return false;
  return fits(n, fd, match);
}

/** Type and listening state (the names already matched). */
function fits(n: Native, fd: number, match: SocketMatch): boolean {
  if (intOption(n, fd, n.platform.SO.TYPE) !== match.type) return false;
  return (intOption(n, fd, n.platform.SO.ACCEPTCONN) === 1) === match.listening;
}

function candidates(n: Native, scan: Scan, match: SocketMatch): number[] {
  const named = match.peer === undefined
    ? scan.byLocal.get(match.local) ?? []
    : scan.withPeer(n, match.local, match.peer);
  return named.filter((fd) => fits(n, fd, match));
}

/** Takes `fd` for `owner` until {@linkcode release}. */
function claim(fd: number, cookie: bigint, owner: object): Located {
  claims.set(fd, { cookie, owner });
  holders.add(owner);
  return { fd, cookie };
}

/**
 * Finds `owner`'s descriptor.
 *
 * @param n The opened library.
 * @param match How the kernel shows the socket.
 * @param owner The runtime object the socket belongs to (its claim's key).
 * @param op The netkit operation, for errors.
 * @param label The address errors name.
 * @param hint Said after an ambiguity (how to avoid it).
 * @returns The descriptor and the socket's cookie; `owner` holds it until released.
 * @throws {NetError} `not_supported` when the socket cannot be told apart
 *   from others, or is not among this process's descriptors.
 */
export function locate(
  n: Native,
  match: SocketMatch,
  owner: object,
  op: string,
  label: string | undefined,
  hint?: string,
): Located {
  const early = identified.get(owner);
  if (early !== undefined) {
    identified.delete(owner);
    if (cookieOf(n, early.fd) === early.cookie) return claim(early.fd, early.cookie, owner);
  }
  if (match.unique && lastScan !== undefined) {
    const fds = match.peer === undefined
      ? lastScan.byLocal.get(match.local) ?? []
      : lastScan.withPeer(n, match.local, match.peer);
    for (const fd of fds) {
      if (!shows(n, fd, match)) continue;
      const cookie = cookieOf(n, fd);
      if (cookie !== undefined) return claim(fd, cookie, owner);
    }
  }
  const scan = lastScan = new Scan(n);
  const found = candidates(n, scan, match).filter((fd) => !claimedByOther(n, fd, owner));
  const cookies = new Set<bigint>();
  for (const fd of found) {
    const cookie = cookieOf(n, fd);
    if (cookie !== undefined) cookies.add(cookie);
  }
  // Several descriptors of one socket (a dup) are all this socket.
  if (found.length > 0 && cookies.size === 1) return claim(found[0], [...cookies][0], owner);
  if (found.length === 0) {
    throw new NetError(
      "not_supported",
      "no descriptor of this process shows this socket's addresses (was it closed underneath?)",
      { op, address: label },
    );
  }
  throw new NetError(
    "not_supported",
    `${found.length} sockets of this process show this socket's addresses and type; ` +
      `netkit will not guess which descriptor is this one${hint === undefined ? "" : `. ${hint}`}`,
    { op, address: label },
  );
}

/**
 * Checks that `located` still holds the same socket (a number closed
 * underneath and reused by another socket would not).
 */
export function stillHeld(n: Native, located: Located): boolean {
  return cookieOf(n, located.fd) === located.cookie;
}

/** Drops `owner`'s claim on `located.fd` (numbers are reused after close). */
export function release(located: Located, owner: object): void {
  if (claims.get(located.fd)?.owner === owner) claims.delete(located.fd);
  holders.delete(owner);
}

/** Whether the runtime object `owner` has had its descriptor found (and not released). */
export function holdsDescriptor(owner: object): boolean {
  return holders.has(owner);
}

// --- unix accepts identified when they land -------------------------------

/** Listener names (keys) being tracked → cookies of the accepted sockets of that name seen so far. */
const tracked = new Map<string, Set<bigint>>();

/** True while some listener's accepts are tracked (one check per accept otherwise). */
export function tracking(): boolean {
  return tracked.size > 0;
}

function acceptedOf(n: Native, scan: Scan, local: string): Map<bigint, number> {
  const out = new Map<bigint, number>();
  const match: SocketMatch = {
    local,
    peer: undefined,
    type: n.platform.SOCK_STREAM,
    listening: false,
    unique: false,
  };
  for (const fd of candidates(n, scan, match)) {
    const cookie = cookieOf(n, fd);
    if (cookie !== undefined) out.set(cookie, fd);
  }
  return out;
}

/**
 * Starts identifying the streams a unix listener accepts, from its next
 * accept on: the sockets of its name that exist now are remembered.
 *
 * @param n The opened library.
 * @param local The key of the listener's kernel name.
 */
export function trackAccepts(n: Native, local: string): void {
  if (tracked.has(local)) return;
  const scan = lastScan = new Scan(n);
  tracked.set(local, new Set(acceptedOf(n, scan, local).keys()));
  hold(); // a tracked listener keeps the library open until it closes
}

/** Whether accepts on the listener named `local` are tracked. */
export function isTracked(local: string): boolean {
  return tracked.has(local);
}

/** Stops tracking a listener's accepts (it closed). */
export function untrack(local: string): void {
  if (tracked.delete(local)) unhold();
}

/**
 * An accept of a tracked listener landed: the one socket of its name not
 * seen before is `conn`'s. Two or none (another thread accepting on a
 * duplicate, an accept that started before tracking) identify nothing.
 *
 * @param n The opened library.
 * @param local The key of the listener's kernel name.
 * @param conn The accepted runtime connection.
 */
export function acceptLanded(n: Native, local: string, conn: object): void {
  const seen = tracked.get(local);
  if (seen === undefined) return;
  const scan = lastScan = new Scan(n);
  const now = acceptedOf(n, scan, local);
  const fresh = [...now].filter(([cookie]) => !seen.has(cookie));
  tracked.set(local, new Set(now.keys()));
  if (fresh.length !== 1) return;
  const [cookie, fd] = fresh[0];
  if (claimedByOther(n, fd, conn)) return;
  identified.set(conn, claim(fd, cookie, conn));
}

/**
 * Records that `owner`'s socket is `fd`, known without a search (an
 * adopted descriptor, or one a runtime object reports itself): the first
 * lookup for `owner` takes it while the socket's cookie is still the same.
 *
 * @param n The opened library.
 * @param owner The runtime object the socket belongs to.
 * @param fd Its descriptor.
 */
export function identify(n: Native, owner: object, fd: number): void {
  const cookie = cookieOf(n, fd);
  if (cookie !== undefined) identified.set(owner, { fd, cookie });
}
