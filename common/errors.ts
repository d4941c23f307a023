/**
 * The one error type of netkit and the mapping from Deno's errors to it.
 *
 * @module
 */

import { LINUX_ERRNO } from "./_errno.ts";

/** The normalised error codes every netkit operation reports. */
export type ErrorCode =
  | "timeout"
  | "aborted"
  | "closed"
  | "address_in_use"
  | "address_not_available"
  | "connection_refused"
  | "connection_reset"
  | "broken_pipe"
  | "not_found"
  | "access_denied"
  | "host_unreachable"
  | "name_not_resolved"
  | "invalid_argument"
  | "not_supported"
  | "unexpected_eof"
  | "resource_exhausted"
  | "handshake_failed"
  | "unknown";

/** Extra fields a {@linkcode NetError} may carry. */
export interface NetErrorOptions {
  /** The operation that failed, e.g. `"connect"` or `"read"`. */
  op: string;
  /** The address involved, formatted as `"host:port"` or a unix path. */
  address?: string;
  /** The original error or abort reason. */
  cause?: unknown;
  /** For `invalid_argument`: the option or argument that was rejected. */
  field?: string;
  /** For `unexpected_eof` from `readExact`: the bytes received before the end. */
  partial?: Uint8Array;
  /** For a failed `writeAll`: how many bytes were written before the failure. */
  written?: number;
}

/**
 * The error every netkit function throws or rejects with. `code` is
 * machine-readable; the message says what failed, where, and why.
 *
 * @example Telling a refused connection from other failures
 * ```ts
 * import { NetError } from "@netkit/netkit";
 *
 * const error = new NetError("connection_refused", "nothing listens there", {
 *   op: "connect",
 *   address: "127.0.0.1:9",
 * });
 * console.log(error.code, error.op, error.address); // connection_refused connect 127.0.0.1:9
 * ```
 */
export class NetError extends Error {
  /** The normalised code. */
  readonly code: ErrorCode;
  /** The operation that failed. */
  readonly op: string;
  /** The address involved, when there is one. */
  readonly address?: string;
  /** For `invalid_argument`: the rejected option or argument. */
  readonly field?: string;
  /** For `unexpected_eof` from `readExact`: the bytes received before the end. */
  readonly partial?: Uint8Array;
  /** For a failed `writeAll`: bytes written before the failure. */
  readonly written?: number;
  /** The message without its `op address:` prefix. */
  readonly detail: string;

  /**
   * Makes an error.
   *
   * @param code The normalised code.
   * @param message What failed and why; `op` and `address` are prefixed.
   * @param options Operation, address, cause and code-specific fields.
   */
  constructor(code: ErrorCode, message: string, options: NetErrorOptions) {
    const where = options.address === undefined ? options.op : `${options.op} ${options.address}`;
    super(`${where}: ${message}`, { cause: options.cause });
    this.name = "NetError";
    this.detail = message;
    this.code = code;
    this.op = options.op;
    if (options.address !== undefined) this.address = options.address;
    if (options.field !== undefined) this.field = options.field;
    if (options.partial !== undefined) this.partial = options.partial;
    if (options.written !== undefined) this.written = options.written;
  }
}

const ERRNO_CODES: Record<string, ErrorCode> = {
  EPERM: "access_denied",
  EACCES: "access_denied",
  ENOENT: "not_found",
  ENOTDIR: "not_found",
  ESRCH: "not_found",
  EINTR: "closed",
  EBADF: "closed",
  ENOTCONN: "closed",
  EAGAIN: "connection_refused",
  EWOULDBLOCK: "connection_refused",
  ENOTSOCK: "connection_refused",
  ECONNREFUSED: "connection_refused",
  ECONNRESET: "connection_reset",
  ECONNABORTED: "connection_reset",
  EPIPE: "broken_pipe",
  EADDRINUSE: "address_in_use",
  EEXIST: "address_in_use",
  EADDRNOTAVAIL: "address_not_available",
  ENODEV: "address_not_available",
  ETIMEDOUT: "timeout",
  EHOSTUNREACH: "host_unreachable",
  ENETUNREACH: "host_unreachable",
  EINVAL: "invalid_argument",
  ENAMETOOLONG: "invalid_argument",
  EMSGSIZE: "invalid_argument",
  EAFNOSUPPORT: "invalid_argument",
  EPROTOTYPE: "invalid_argument",
  ENOPROTOOPT: "not_supported",
  EMFILE: "resource_exhausted",
  ENFILE: "resource_exhausted",
  ENOBUFS: "resource_exhausted",
  ENOMEM: "resource_exhausted",
  ENOTFOUND: "name_not_resolved",
  EAI_NONAME: "name_not_resolved",
  EAI_AGAIN: "name_not_resolved",
  EAI_FAIL: "name_not_resolved",
  EAI_NODATA: "name_not_resolved",
};

/** Deno's error classes, by name, for the ones that carry no errno. */
const CLASS_CODES: Record<string, ErrorCode> = {
  NotCapable: "access_denied",
  PermissionDenied: "access_denied",
  AddrInUse: "address_in_use",
  AddrNotAvailable: "address_not_available",
  ConnectionRefused: "connection_refused",
  ConnectionReset: "connection_reset",
  ConnectionAborted: "connection_reset",
  BrokenPipe: "broken_pipe",
  NotFound: "not_found",
  TimedOut: "timeout",
  NotConnected: "closed",
  Interrupted: "closed",
  BadResource: "closed",
  UnexpectedEof: "unexpected_eof",
  InvalidData: "invalid_argument",
  WouldBlock: "connection_refused",
  AlreadyExists: "address_in_use",
  IsADirectory: "access_denied",
  NotADirectory: "not_found",
  FilesystemLoop: "not_found",
  WriteZero: "broken_pipe",
  Busy: "invalid_argument",
  NotSupported: "not_supported",
  RangeError: "invalid_argument",
  TypeError: "invalid_argument",
};

/**
 * Finds the normalised code of any error Deno, `node:*` or the OS reports:
 * by errno name first, then by Deno error class, then by the `(os error N)`
 * number in the message.
 *
 * @param error Anything thrown or rejected.
 * @returns The {@linkcode ErrorCode} (`"unknown"` when nothing matches).
 *
 * @example Classify a raw Deno error
 * ```ts
 * import { errorCodeOf } from "@netkit/netkit";
 *
 * try {
 *   await Deno.connect({ transport: "unix", path: "/nonexistent/netkit.sock" });
 * } catch (error) {
 *   console.log(errorCodeOf(error)); // "not_found"
 * }
 * ```
 */
export function errorCodeOf(error: unknown): ErrorCode {
  if (error instanceof NetError) return error.code;
  if (!(error instanceof Error)) return "unknown";
  const errno = (error as { code?: unknown }).code;
  if (typeof errno === "string" && Object.hasOwn(ERRNO_CODES, errno)) {
    return ERRNO_CODES[errno];
  }
  const osError = /\(os error (\d+)\)/.exec(error.message);
  if (osError) {
    const name = LINUX_ERRNO[Number(osError[1])];
    if (name !== undefined && Object.hasOwn(ERRNO_CODES, name)) return ERRNO_CODES[name];
  }
  if (Object.hasOwn(CLASS_CODES, error.name)) return CLASS_CODES[error.name];
  if (/lookup address information|Name or service not known/i.test(error.message)) {
    return "name_not_resolved";
  }
  if (error.name === "AbortError") return "aborted";
  if (error.name === "TimeoutError") return "timeout";
  return "unknown";
}
