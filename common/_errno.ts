/**
 * The Linux errno numbers (x86_64 and aarch64 alike), in one table: the
 * error mapper reads them in Deno's "(os error N)" messages, and the native
 * layer's Linux platform table names the errno of a failed call with them.
 *
 * @module
 */

/** Linux errno number → name. */
export const LINUX_ERRNO: Readonly<Record<number, string>> = Object.freeze({
  1: "EPERM",
  2: "ENOENT",
  3: "ESRCH",
  4: "EINTR",
  9: "EBADF",
  11: "EAGAIN",
  12: "ENOMEM",
  13: "EACCES",
  14: "EFAULT",
  19: "ENODEV",
  20: "ENOTDIR",
  22: "EINVAL",
  23: "ENFILE",
  24: "EMFILE",
  32: "EPIPE",
  36: "ENAMETOOLONG",
  38: "ENOSYS",
  88: "ENOTSOCK",
  90: "EMSGSIZE",
  91: "EPROTOTYPE",
  92: "ENOPROTOOPT",
  93: "EPROTONOSUPPORT",
  95: "EOPNOTSUPP",
  97: "EAFNOSUPPORT",
  98: "EADDRINUSE",
  99: "EADDRNOTAVAIL",
  100: "ENETDOWN",
  101: "ENETUNREACH",
  103: "ECONNABORTED",
  104: "ECONNRESET",
  105: "ENOBUFS",
  106: "EISCONN",
  107: "ENOTCONN",
  110: "ETIMEDOUT",
  111: "ECONNREFUSED",
  112: "EHOSTDOWN",
  113: "EHOSTUNREACH",
});
