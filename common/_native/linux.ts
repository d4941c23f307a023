/**
 * The operating system's numbers the native layer needs, one table per
 * platform. Linux x86_64 and aarch64 share the generic socket ABI and differ
 * only in a few numbers; a macOS table would add its own values (BSD
 * `sockaddr` with a length byte, `SOL_SOCKET` 0xffff, other errno numbers)
 * and be picked in {@linkcode platformFor}.
 *
 * @module
 */

import { LINUX_ERRNO } from "../_errno.ts";

/** Everything the native layer reads from the platform. */
export interface Platform {
  /** `"linux-x86_64"` and so on, for messages. */
  readonly name: string;
  /** The C library to open. */
  readonly libc: string;
  /** Whether `sockaddr` starts with a length byte (BSD) instead of a 16-bit family. */
  readonly sockaddrLength: boolean;
  readonly AF_UNSPEC: number;
  readonly AF_UNIX: number;
  readonly AF_INET: number;
  readonly AF_INET6: number;
  readonly SOCK_STREAM: number;
  /** `shutdown(2)`'s both-ways value. */
  readonly SHUT_RDWR: number;
  readonly SOCK_DGRAM: number;
  readonly SOCK_RAW: number;
  readonly SOCK_SEQPACKET: number;
  readonly SOL_SOCKET: number;
  readonly IPPROTO_IP: number;
  readonly IPPROTO_TCP: number;
  readonly IPPROTO_IPV6: number;
  /** `SO_*` option numbers at `SOL_SOCKET`. */
  readonly SO: Readonly<Record<string, number>>;
  /** `TCP_*` option numbers at `IPPROTO_TCP`. */
  readonly TCP: Readonly<Record<string, number>>;
  /** `IP_*` option numbers at `IPPROTO_IP`. */
  readonly IP: Readonly<Record<string, number>>;
  /** `IPV6_*` option numbers at `IPPROTO_IPV6`. */
  readonly IPV6: Readonly<Record<string, number>>;
  readonly F_GETFL: number;
  readonly O_NONBLOCK: number;
  readonly O_RDONLY: number;
  readonly O_DIRECTORY: number;
  readonly O_CLOEXEC: number;
  /** The system call that lists a directory into a buffer (getdents64). */
  readonly SYS_getdents64: number;
  /** fstat(2) as a system call, and the byte offset of `st_mode` in its `struct stat`. */
  readonly SYS_fstat: number;
  readonly statMode: number;
  /** fcntl(2): duplicate with close-on-exec, get and set the descriptor flags. */
  readonly F_DUPFD_CLOEXEC: number;
  readonly F_GETFD: number;
  readonly F_SETFD: number;
  readonly FD_CLOEXEC: number;
  /** `O_ACCMODE` of the file status flags (`O_RDONLY` 0, `O_WRONLY` 1, `O_RDWR` 2). */
  readonly O_ACCMODE: number;
  /** socket(2) type flags. */
  readonly SOCK_NONBLOCK: number;
  readonly SOCK_CLOEXEC: number;
  /** Byte offsets in one getdents64 record: its length and its name. */
  readonly direntReclen: number;
  readonly direntName: number;
  /** Where the open descriptors of this process are listed. */
  readonly fdDirectory: string;
  /** errno number → name, as the error mapper knows them. */
  readonly errno: Readonly<Record<number, string>>;
  /** fcntl(2) F_SETFL (set the file status flags), open(2) O_RDWR, epoll_ctl(2) EPOLL_CTL_DEL. */
  readonly F_SETFL: number;
  readonly O_RDWR: number;
  readonly EPOLL_CTL_DEL: number;
  /** getaddrinfo(3) hint flags (`AI_PASSIVE` → `PASSIVE`, …). */
  readonly AI: Readonly<Record<string, number>>;
  /** getaddrinfo(3) results (`EAI_NONAME` → `NONAME`, …; negative on glibc). */
  readonly EAI: Readonly<Record<string, number>>;
  /** `struct addrinfo`: its size and each field's byte offset. */
  readonly addrinfo: Readonly<{
    size: number;
    flags: number;
    family: number;
    socktype: number;
    protocol: number;
    addrlen: number;
    addr: number;
    canonname: number;
    next: number;
  }>;
}

const LINUX_COMMON = {
  libc: "libc.so.6",
  sockaddrLength: false,
  AF_UNSPEC: 0,
  AF_UNIX: 1,
  AF_INET: 2,
  AF_INET6: 10,
  SOCK_STREAM: 1,
  SHUT_RDWR: 2,
  SOCK_DGRAM: 2,
  SOCK_RAW: 3,
  SOCK_SEQPACKET: 5,
  SOL_SOCKET: 1,
  IPPROTO_IP: 0,
  IPPROTO_TCP: 6,
  IPPROTO_IPV6: 41,
  SO: Object.freeze({
    REUSEADDR: 2,
    TYPE: 3,
    ERROR: 4,
    BROADCAST: 6,
    SNDBUF: 7,
    RCVBUF: 8,
    KEEPALIVE: 9,
    LINGER: 13,
    REUSEPORT: 15,
    PEERCRED: 17,
    ACCEPTCONN: 30,
    COOKIE: 57,
  }),
  TCP: Object.freeze({
    NODELAY: 1,
    KEEPIDLE: 4,
    KEEPINTVL: 5,
    KEEPCNT: 6,
    CONGESTION: 13,
    USER_TIMEOUT: 18,
  }),
  IP: Object.freeze({
    TOS: 1,
    TTL: 2,
    MULTICAST_IF: 32,
    MULTICAST_TTL: 33,
    MULTICAST_LOOP: 34,
  }),
  IPV6: Object.freeze({
    UNICAST_HOPS: 16,
    MULTICAST_IF: 17,
    MULTICAST_HOPS: 18,
    MULTICAST_LOOP: 19,
    V6ONLY: 26,
  }),
  F_GETFL: 3,
  F_DUPFD_CLOEXEC: 1030,
  F_GETFD: 1,
  F_SETFD: 2,
  FD_CLOEXEC: 1,
  O_ACCMODE: 3,
  SOCK_NONBLOCK: 0o4000,
  SOCK_CLOEXEC: 0o2000000,
  O_NONBLOCK: 0o4000,
  O_RDONLY: 0,
  O_CLOEXEC: 0o2000000,
  direntReclen: 16,
  direntName: 19,
  fdDirectory: "/proc/self/fd",
  errno: LINUX_ERRNO,
  F_SETFL: 4,
  O_RDWR: 2,
  EPOLL_CTL_DEL: 2,
  // glibc's <netdb.h>, the same on every Linux architecture it builds for.
  AI: Object.freeze({
    PASSIVE: 0x1,
    CANONNAME: 0x2,
    NUMERICHOST: 0x4,
    V4MAPPED: 0x8,
    ALL: 0x10,
    ADDRCONFIG: 0x20,
    NUMERICSERV: 0x400,
  }),
  EAI: Object.freeze({
    BADFLAGS: -1,
    NONAME: -2,
    AGAIN: -3,
    FAIL: -4,
    NODATA: -5,
    FAMILY: -6,
    SOCKTYPE: -7,
    SERVICE: -8,
    ADDRFAMILY: -9,
    MEMORY: -10,
    SYSTEM: -11,
    OVERFLOW: -12,
  }),
  // LP64 (x86_64 and aarch64): four ints, a socklen_t padded to 8, three pointers.
  addrinfo: Object.freeze({
    size: 48,
    flags: 0,
    family: 4,
    socktype: 8,
    protocol: 12,
    addrlen: 16,
    addr: 24,
    canonname: 32,
    next: 40,
  }),
};

/** Linux on x86_64. */
export const LINUX_X86_64: Platform = Object.freeze({
  ...LINUX_COMMON,
  name: "linux-x86_64",
  O_DIRECTORY: 0o200000,
  SYS_getdents64: 217,
  SYS_fstat: 5,
  statMode: 24,
});

/** Linux on aarch64 (the generic system call table). */
export const LINUX_AARCH64: Platform = Object.freeze({
  ...LINUX_COMMON,
  name: "linux-aarch64",
  O_DIRECTORY: 0o40000,
  SYS_getdents64: 61,
  SYS_fstat: 80,
  statMode: 16,
});

/** The table for an OS and architecture, or `undefined` where there is none yet. */
export function platformFor(os: string, arch: string): Platform | undefined {
  if (os === "linux" && arch === "x86_64") return LINUX_X86_64;
  if (os === "linux" && arch === "aarch64") return LINUX_AARCH64;
  return undefined;
}
