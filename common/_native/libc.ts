/**
 * The C library, opened once and only when asked: nothing here runs at
 * import. {@linkcode nativeStatus} says whether the native layer is usable
 * (platform table, `--allow-ffi` granted — asked with `querySync`, so no
 * prompt ever appears —, library found); {@linkcode native} opens the
 * library or throws `not_supported` with that reason. Every call that
 * fails reads errno at once and maps it with the common error mapper.
 *
 * @module
 */

import { type ErrorCode, NetError } from "../errors.ts";
import { toNetError } from "../_errors.ts";
import { type Platform, platformFor } from "./linux.ts";

const SYMBOLS = {
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  getpeername: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
  connect: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  listen: { parameters: ["i32", "i32"], result: "i32" },
  accept4: { parameters: ["i32", "buffer", "buffer", "i32"], result: "i32" },
  fcntl: { parameters: ["i32", "i32"], result: "i32" },
  open: { parameters: ["buffer", "i32"], result: "i32" },
  close: { parameters: ["i32"], result: "i32" },
  syscall: { parameters: ["i64", "i64", "buffer", "i64"], result: "i64" },
  __errno_location: { parameters: [], result: "pointer" },
  // Making sockets and moving bytes without the runtime (raw, datagram, adopted).
  socket: { parameters: ["i32", "i32", "i32"], result: "i32" },
  bind: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  sendto: { parameters: ["i32", "buffer", "usize", "i32", "buffer", "u32"], result: "isize" },
  recvfrom: { parameters: ["i32", "buffer", "usize", "i32", "buffer", "buffer"], result: "isize" },
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  write: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  shutdown: { parameters: ["i32", "i32"], result: "i32" },
  fcntl3: { name: "fcntl", parameters: ["i32", "i32", "i32"], result: "i32" },
  dup: { parameters: ["i32"], result: "i32" },
  dup2: { parameters: ["i32", "i32"], result: "i32" },
  eventfd: { parameters: ["u32", "i32"], result: "i32" },
  poll: { parameters: ["buffer", "u64", "i32"], result: "i32" },
  // Waits on a runtime thread: the promise settles when the call returns.
  poll_wait: {
    name: "poll",
    parameters: ["buffer", "u64", "i32"],
    result: "i32",
    nonblocking: true,
  },
  getaddrinfo: {
    name: "getaddrinfo",
    parameters: ["buffer", "buffer", "buffer", "buffer"],
    result: "i32",
    nonblocking: true,
  },
  freeaddrinfo: { parameters: ["pointer"], result: "void" },
  gai_strerror: { parameters: ["i32"], result: "pointer" },
  getpid: { parameters: [], result: "i32" },
  setpgid: { parameters: ["i32", "i32"], result: "i32" },
  timerfd_create: { parameters: ["i32", "i32"], result: "i32" },
  timerfd_settime: { parameters: ["i32", "i32", "buffer", "buffer"], result: "i32" },
  // Handing a socket to a child: its registration leaves our reactor before a dummy takes its number.
  epoll_ctl: { parameters: ["i32", "i32", "i32", "pointer"], result: "i32" },
  dup3: { parameters: ["i32", "i32", "i32"], result: "i32" },
} as const;

/** The opened library's calls. */
export type Symbols = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

/** What {@linkcode nativeStatus} reports. */
export interface NativeStatus {
  /** Whether the native layer can be used here. */
  available: boolean;
  /** Why not, when it cannot (names `--allow-ffi` when that is missing). */
  reason?: string;
}

/** The opened C library with its platform table and errno. */
export interface Native {
  readonly platform: Platform;
  readonly sym: Symbols;
  /** errno of the calling thread, read right after a failed call. */
  errno(): number;
  /**
   * The error of a failed call: errno's name and number, mapped to a code.
   *
   * @param call What was called, e.g. `"setsockopt(SO_RCVBUF)"`.
   * @param op The netkit operation.
   * @param address The address errors name.
   * @param code Overrides the mapped code.
   */
  fail(call: string, op: string, address?: string, code?: ErrorCode): NetError;
  /** errno's name (`"EINVAL"`), or `"errno N"` when the table has none. */
  errnoName(errno: number): string;
}

const FLAG = "--allow-ffi";
let opened: Native | undefined;
let library: { close(): void } | undefined;
/** Sockets (and tracked listeners) that keep the library open. */
let holders = 0;
/** The library opened once already: availability then needs only the permission. */
let loadable = false;
/** A reason that does not change while the process runs (platform, library). */
let fixedReason: string | undefined;

function platformReason(): string | undefined {
  const { os, arch } = Deno.build;
  if (platformFor(os, arch) !== undefined) return undefined;
  return `not supported on ${os} ${arch}: netkit's native layer has the system's numbers ` +
    "for Linux x86_64 and aarch64 only";
}

function permissionReason(): string | undefined {
  let state: string;
  try {
    state = Deno.permissions.querySync({ name: "ffi" }).state;
  } catch {
    state = "denied";
  }
  if (state === "granted") return undefined;
  return `needs ${FLAG}: netkit reaches below Deno through the C library with Deno's FFI ` +
    `(run with ${FLAG}, or -A)`;
}

/**
 * The calls, each bound on its first use. Deno prepares every symbol of a
 * `dlopen` when it opens it (about 0.14 ms each here, so the whole table
 * would cost several milliseconds every time the library is reopened): a
 * program pays only for the calls it makes, one small handle per call, all
 * closed together by {@linkcode idle}.
 */
function lazySymbols(libc: string, handles: { close(): void }[]): Symbols {
  const sym: Record<string, unknown> = {};
  for (const name of Object.keys(SYMBOLS) as (keyof typeof SYMBOLS)[]) {
    Object.defineProperty(sym, name, {
      configurable: true,
      enumerable: true,
      get() {
        const handle = Deno.dlopen(libc, { [name]: SYMBOLS[name] } as Deno.ForeignLibraryInterface);
        handles.push(handle);
        const call = handle.symbols[name];
        Object.defineProperty(sym, name, { value: call, enumerable: true });
        return call;
      },
    });
  }
  return sym as Symbols;
}

function open(): Native {
  const platform = platformFor(Deno.build.os, Deno.build.arch)!;
  const handles: { close(): void }[] = [];
  const handle = { close: () => handles.forEach((h) => h.close()) };
  const sym = lazySymbols(platform.libc, handles);
  let where: Deno.PointerValue;
  try {
    where = sym.__errno_location();
  } catch (error) {
    handle.close();
    throw error;
  }
  if (where === null) {
    handle.close();
    throw new Error("__errno_location returned NULL");
  }
  library = handle;
  const errnoView = new Deno.UnsafePointerView(where);
  const errnoName = (errno: number): string => platform.errno[errno] ?? `errno ${errno}`;
  return {
    platform,
    sym,
    errno: () => errnoView.getInt32(0),
    errnoName,
    fail(call, op, address, code) {
      const errno = errnoView.getInt32(0);
      const name = errnoName(errno);
      const cause = Object.assign(new Error(`${call} failed: ${name} (os error ${errno})`), {
        code: name,
      });
      return toNetError(cause, op, address, code);
    },
  };
}

/** Why the native layer cannot be used now, or `undefined` when it can. */
function unavailable(): string | undefined {
  if (opened !== undefined) return undefined;
  if (fixedReason === undefined) fixedReason = platformReason();
  if (fixedReason !== undefined) return fixedReason;
  return permissionReason();
}

/**
 * Whether the native layer is usable. Asks for the permission without a
 * prompt; the first time it is granted, opens the C library once to be
 * sure it loads (and closes it again if nothing holds it).
 *
 * @returns `{ available: true }`, or `{ available: false, reason }`.
 */
export function nativeStatus(): NativeStatus {
  const reason = unavailable();
  if (reason !== undefined) return { available: false, reason };
  if (opened === undefined && !loadable) {
    try {
      native("nativeSupport", "the native layer");
    } catch (error) {
      return { available: false, reason: (error as NetError).detail };
    } finally {
      idle();
    }
  }
  return { available: true };
}

/**
 * The opened library (opening it if needed), or `not_supported` saying why
 * it cannot be had. Callers end their operation with {@linkcode idle}, so
 * a library nothing holds is closed again.
 *
 * @param op The netkit operation, e.g. `"setOption"`.
 * @param what What needs it, e.g. `"so_rcvbuf"` or `"fileno"`.
 * @param address The address errors name.
 * @throws {NetError} `not_supported` naming `--allow-ffi` (or the platform,
 *   or the library's failure).
 */
export function native(op: string, what: string, address?: string): Native {
  if (opened !== undefined) return opened;
  const reason = unavailable();
  if (reason !== undefined) {
    throw new NetError("not_supported", `${what} ${reason}`, { op, address });
  }
  try {
    opened = open();
  } catch (error) {
    fixedReason = `the C library could not be opened: ${(error as Error).message ?? error}`;
    throw new NetError("not_supported", `${what} needs ${fixedReason}`, { op, address });
  }
  loadable = true;
  return opened;
}

/** One more socket keeps the library open. */
export function hold(): void {
  holders++;
}

/** One socket less keeps the library open; the last one closes it. */
export function unhold(): void {
  holders--;
  idle();
}

/**
 * Closes the library when no socket holds it, so a program (or a test
 * with Deno's resource sanitizer) that closed its sockets has nothing
 * native left open. Reopening costs a few hundred microseconds.
 */
export function idle(): void {
  if (holders > 0 || library === undefined) return;
  library.close();
  library = undefined;
  opened = undefined;
}
