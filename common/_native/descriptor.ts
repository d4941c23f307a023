/**
 * What a descriptor number is, asked of the kernel: not open, a socket (its
 * domain, type, whether it listens, its own and its peer's name), a pipe or
 * FIFO, a regular file, a character device, a directory. Also the
 * descriptor calls adoption needs: a close-on-exec duplicate, close-on-exec
 * on an adopted number, and `struct sockaddr` in and out.
 *
 * @module
 */

import { addressToBytes, bytesToAddress } from "../address.ts";
import type { Native } from "./libc.ts";

/** What {@linkcode probe} found at a descriptor number. */
export type Probed =
  | { what: "closed" }
  | {
    what: "socket";
    /** AF_INET, AF_INET6 or AF_UNIX as `"inet"`, `"inet6"`, `"unix"`; `"other"` for the rest. */
    domain: "inet" | "inet6" | "unix" | "other";
    /** SOCK_STREAM → `"stream"`, SOCK_DGRAM → `"dgram"`, else `"other"`. */
    type: "stream" | "dgram" | "other";
    listening: boolean;
    /** Its own name. */
    local: Deno.Addr | null;
    /** Its peer's name; `null` when not connected. */
    peer: Deno.Addr | null;
  }
  | { what: "fifo" | "file" | "chr" | "dir" | "other"; readable: boolean; writable: boolean };

const S_IFMT = 0o170000;
const S_IFSOCK = 0o140000;
const S_IFREG = 0o100000;
const S_IFBLK = 0o060000;
const S_IFDIR = 0o040000;
const S_IFCHR = 0o020000;
const S_IFIFO = 0o010000;

const stat = new Uint8Array(256);
const statView = new DataView(stat.buffer);
const name = new Uint8Array(128);
const nameLength = new Uint8Array(4);
const nameLength32 = new Uint32Array(nameLength.buffer);
const value = new Uint8Array(4);
const valueView = new DataView(value.buffer);
const valueLength = new Uint8Array(4);
const valueLength32 = new Uint32Array(valueLength.buffer);
const decoder = new TextDecoder();

function intOption(n: Native, fd: number, option: number): number | undefined {
  valueLength32[0] = 4;
  if (n.sym.getsockopt(fd, n.platform.SOL_SOCKET, option, value, valueLength) !== 0) {
    return undefined;
  }
  return valueView.getInt32(0, true);
}

/**
 * Decodes a kernel `sockaddr` (Linux layout) into a runtime address; `null`
 * for a family netkit has no address for.
 *
 * @param n The opened library.
 * @param bytes The sockaddr.
 * @param length Its length as the kernel gave it.
 * @param transport `"tcp"`/`"udp"` for IP, `"unix"`/`"unixpacket"` for unix.
 */
export function decodeSockaddr(
  n: Native,
  bytes: Uint8Array,
  length: number,
  transport: "tcp" | "udp" | "unix" | "unixpacket",
): Deno.Addr | null {
  const p = n.platform;
  const family = bytes[0] | (bytes[1] << 8);
  if (family === p.AF_INET && length >= 8) {
    return {
      transport: transport as "tcp",
      hostname: bytesToAddress(bytes.slice(4, 8)),
      port: (bytes[2] << 8) | bytes[3],
    };
  }
  if (family === p.AF_INET6 && length >= 24) {
    return {
      transport: transport as "tcp",
      hostname: bytesToAddress(bytes.slice(8, 24)),
      port: (bytes[2] << 8) | bytes[3],
    };
  }
  if (family === p.AF_UNIX) {
    let path = "";
    if (length > 2) {
      if (bytes[2] === 0) path = "\0" + decoder.decode(bytes.subarray(3, length));
      else {
        let end = bytes.indexOf(0, 2);
        if (end === -1 || end > length) end = length;
        path = decoder.decode(bytes.subarray(2, end));
      }
    }
    return { transport: transport as "unix", path };
  }
  return null;
}

/**
 * Encodes an IP literal and port as the kernel's `sockaddr_in` or
 * `sockaddr_in6` (the one encoder of IP names for every native socket).
 *
 * @param n The opened library.
 * @param hostname An IPv4 or IPv6 literal; a numeric `%scope` suffix sets
 *   the IPv6 scope (interface index).
 * @param port The port (0 for raw sockets, or to let the kernel choose).
 * @param v6Socket Whether the socket is IPv6: an IPv4 address is then
 *   mapped (`::ffff:a.b.c.d`).
 */
export function encodeSockaddr(
  n: Native,
  hostname: string,
  port = 0,
  v6Socket = false,
): Uint8Array {
  const p = n.platform;
  const [host, scope] = hostname.split("%");
  let bytes = addressToBytes(host);
  if (v6Socket && bytes.length === 4) {
    const mapped = new Uint8Array(16);
    mapped[10] = mapped[11] = 0xff;
    mapped.set(bytes, 12);
    bytes = mapped;
  }
  const v4 = bytes.length === 4;
  const out = new Uint8Array(v4 ? 16 : 28);
  const view = new DataView(out.buffer);
  view.setUint16(0, v4 ? p.AF_INET : p.AF_INET6, true);
  view.setUint16(2, port, false);
  out.set(bytes, v4 ? 4 : 8);
  if (!v4 && scope !== undefined && /^\d+$/.test(scope)) view.setUint32(24, Number(scope), true);
  return out;
}

/**
 * A socket's own name (`peer`: its peer's), or `null` when it has none.
 *
 * @param n The opened library.
 * @param fd The socket.
 * @param peer Whether to ask for the peer's name.
 * @param transport How IP and unix names are reported.
 */
export function socketName(
  n: Native,
  fd: number,
  peer: boolean,
  transport: "tcp" | "udp" | "unix" | "unixpacket",
): Deno.Addr | null {
  nameLength32[0] = name.length;
  name.fill(0);
  const result = peer
    ? n.sym.getpeername(fd, name, nameLength)
    : n.sym.getsockname(fd, name, nameLength);
  if (result !== 0) return null;
  return decodeSockaddr(n, name, Math.min(nameLength32[0], name.length), transport);
}

/**
 * What `fd` is. Never throws for a number that is not open (`closed`).
 *
 * @param n The opened library.
 * @param fd The descriptor number.
 */
export function probe(n: Native, fd: number): Probed {
  const p = n.platform;
  const flags = n.sym.fcntl(fd, p.F_GETFL);
  if (flags < 0) return { what: "closed" };
  const access = flags & p.O_ACCMODE;
  const readable = access === p.O_RDONLY || access === 2;
  const writable = access === 1 || access === 2;
  const done = Number(n.sym.syscall(BigInt(p.SYS_fstat), BigInt(fd), stat, 0n));
  const mode = done === 0 ? statView.getUint32(p.statMode, true) & S_IFMT : 0;
  if (mode !== S_IFSOCK) {
    const what = mode === S_IFIFO
      ? "fifo"
      : mode === S_IFREG || mode === S_IFBLK
      ? "file"
      : mode === S_IFCHR
      ? "chr"
      : mode === S_IFDIR
      ? "dir"
      : "other";
    return { what, readable, writable };
  }
  const type = intOption(n, fd, p.SO.TYPE);
  const listening = intOption(n, fd, p.SO.ACCEPTCONN) === 1;
  nameLength32[0] = name.length;
  name.fill(0);
  const family = n.sym.getsockname(fd, name, nameLength) === 0 ? name[0] | (name[1] << 8) : -1;
  const domain = family === p.AF_INET
    ? "inet"
    : family === p.AF_INET6
    ? "inet6"
    : family === p.AF_UNIX
    ? "unix"
    : "other";
  const kind = type === p.SOCK_STREAM ? "stream" : type === p.SOCK_DGRAM ? "dgram" : "other";
  const transport = domain === "unix"
    ? (kind === "stream" ? "unix" : "unixpacket")
    : (kind === "stream" ? "tcp" : "udp");
  return {
    what: "socket",
    domain,
    type: kind,
    listening,
    local: socketName(n, fd, false, transport),
    peer: listening ? null : socketName(n, fd, true, transport),
  };
}

/**
 * A close-on-exec duplicate of `fd` (F_DUPFD_CLOEXEC, number 3 or above).
 *
 * @throws {NetError} the mapped errno (`too_many_open_files`…).
 */
export function duplicate(n: Native, fd: number, op: string): number {
  const copy = n.sym.fcntl3(fd, n.platform.F_DUPFD_CLOEXEC, 3);
  if (copy < 0) throw n.fail("fcntl(F_DUPFD_CLOEXEC)", op, `fd ${fd}`);
  return copy;
}

/**
 * Puts `fd` in non-blocking mode (`O_NONBLOCK`, a flag of the open file
 * description, which its duplicates share).
 *
 * @throws {NetError} the mapped errno when fcntl fails.
 */
export function setNonBlocking(n: Native, fd: number, op: string, address?: string): void {
  const p = n.platform;
  const flags = n.sym.fcntl(fd, p.F_GETFL);
  if (flags >= 0 && (flags & p.O_NONBLOCK) !== 0) return;
  if (flags < 0 || n.sym.fcntl3(fd, p.F_SETFL, flags | p.O_NONBLOCK) < 0) {
    throw n.fail("fcntl(O_NONBLOCK)", op, address);
  }
}

/** Sets close-on-exec on a descriptor netkit now owns (children get it only when handed it). */
export function setCloseOnExec(n: Native, fd: number): void {
  const flags = n.sym.fcntl(fd, n.platform.F_GETFD);
  if (flags >= 0 && (flags & n.platform.FD_CLOEXEC) === 0) {
    n.sym.fcntl3(fd, n.platform.F_SETFD, flags | n.platform.FD_CLOEXEC);
  }
}
