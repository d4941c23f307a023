/**
 * The calls the socket classes make: `fileno`, `getOption`, `setOption`,
 * `abort`, the close that honours `so_linger` 0, the unix `backlog`, and
 * the accept source that identifies unix streams as they land. Each checks
 * its input first (the same with or without `--allow-ffi`), then the
 * object's state, then reaches the kernel.
 *
 * @module
 */

import { NetError } from "../errors.ts";
import { closedError } from "../_errors.ts";
import type { AcceptSource } from "../listener.ts";
import { acceptLanded, addrKey, isTracked, tracking, untrack } from "./fd.ts";
import { idle, type Native, native, nativeStatus } from "./libc.ts";
import { NativeSocket, runtimeSocket } from "./socket.ts";
import { checkValue, readOption, ruleOf, writeOption } from "./sockopt.ts";

/**
 * The descriptor (`fileno`).
 *
 * @param socket The object's socket.
 * @param closed Whether the object is closed.
 * @param label The address errors name.
 */
export function filenoOf(socket: NativeSocket, closed: boolean, label: string | undefined): number {
  if (closed) throw closedError("fileno", label);
  try {
    return socket.fd("fileno", "fileno").fd;
  } finally {
    idle();
  }
}

/**
 * `setOption` on a descriptor the object holds itself (raw, unbound unix
 * datagram and unbound TCP sockets: nothing to find): checks the name and
 * value, then the object's state, then sets it in the kernel.
 *
 * @param n The opened library.
 * @param fd The descriptor.
 * @param socket Which options the object takes.
 * @param name The option's name.
 * @param value Its value.
 * @param checkOpen Throws when the object cannot be used now (`closed`…).
 * @param label The address errors name.
 */
export function setOptionAt(
  n: Native,
  fd: number,
  socket: NativeSocket,
  name: unknown,
  value: unknown,
  checkOpen: (op: string) => void,
  label: string | undefined,
): void {
  const rule = ruleOf("setOption", socket, name, label);
  checkValue(name as string, rule, value, label);
  checkOpen("setOption");
  writeOption(n, fd, name as string, rule, value, label);
}

/**
 * `getOption` on a descriptor the object holds itself; see {@linkcode setOptionAt}.
 *
 * @param n The opened library.
 * @param fd The descriptor.
 * @param socket Which options the object takes.
 * @param name The option's name.
 * @param checkOpen Throws when the object cannot be used now (`closed`…).
 * @param label The address errors name.
 */
export function getOptionAt(
  n: Native,
  fd: number,
  socket: NativeSocket,
  name: unknown,
  checkOpen: (op: string) => void,
  label: string | undefined,
): unknown {
  const rule = ruleOf("getOption", socket, name, label);
  checkOpen("getOption");
  return readOption(n, fd, name as string, rule, label);
}

/**
 * `getOption`: the kernel's current value.
 *
 * @param socket The object's socket.
 * @param name The option's name.
 * @param closed Whether the object is closed.
 * @param label The address errors name.
 */
export function getOptionOf(
  socket: NativeSocket,
  name: unknown,
  closed: boolean,
  label: string | undefined,
): unknown {
  const rule = ruleOf("getOption", socket, name, label);
  if (closed) throw closedError("getOption", label);
  try {
    const { n, fd } = socket.fd("getOption", name as string);
    return readOption(n, fd, name as string, rule, label);
  } finally {
    idle();
  }
}

/**
 * `setOption`: checks the name and value, then sets it in the kernel.
 *
 * @param socket The object's socket.
 * @param name The option's name.
 * @param value Its value.
 * @param closed Whether the object is closed.
 * @param label The address errors name.
 */
export function setOptionOf(
  socket: NativeSocket,
  name: unknown,
  value: unknown,
  closed: boolean,
  label: string | undefined,
): void {
  const rule = ruleOf("setOption", socket, name, label);
  checkValue(name as string, rule, value, label);
  if (closed) throw closedError("setOption", label);
  try {
    const { n, fd } = socket.fd("setOption", name as string);
    writeOption(n, fd, name as string, rule, value, label);
  } finally {
    idle();
  }
}

const UNSPEC = new Uint8Array(16);

/**
 * Makes the kernel drop a TCP connection with a reset: connect(2) with
 * AF_UNSPEC on an established socket discards what is queued both ways and
 * sends RST (a plain SO_LINGER 0 is not enough, because Deno's close shuts
 * the write side first, which sends FIN).
 */
function disconnect(socket: NativeSocket, op: string, label: string | undefined): void {
  const { n, fd } = socket.fd(op, op, false);
  UNSPEC[0] = n.platform.AF_UNSPEC;
  if (n.sym.connect(fd, UNSPEC, UNSPEC.length) !== 0) {
    const errno = n.errnoName(n.errno());
    // Already reset or never connected: nothing is left to drop.
    if (errno !== "ENOTCONN" && errno !== "ECONNRESET") {
      throw n.fail("connect(AF_UNSPEC)", op, label);
    }
  }
}

/**
 * `abort()` before the close: a TCP stream's connection is reset. A unix
 * stream needs nothing more than its close, which discards unread input (the
 * only case in which Linux resets a unix peer), but still asks for the
 * native layer, as every capability below Deno does.
 *
 * @param socket The object's socket.
 * @param label The address errors name.
 */
export function abortOf(socket: NativeSocket, label: string | undefined): void {
  if (socket.kind === "tcp-stream") {
    try {
      disconnect(socket, "abort", label);
    } finally {
      idle();
    }
  } else if (socket.kind === "unix-stream") {
    socket.native("abort", "abort");
    idle();
  } else {
    throw new NetError(
      "not_supported",
      `abort needs a TCP or unix stream, not ${socket.kindName}`,
      {
        op: "abort",
        address: label,
      },
    );
  }
}

/**
 * The close of an object whose socket was used natively: a TCP stream with
 * `so_linger` 0 resets instead of sending FIN; then the descriptor is
 * forgotten. Never throws (close does not).
 *
 * @param socket The object's socket.
 * @param label The address errors name.
 */
export function closingOf(socket: NativeSocket, label: string | undefined): void {
  try {
    if (socket.kind === "tcp-stream" && socket.located) {
      const { n, fd } = socket.fd("close", "close", false);
      const rule = ruleOf("close", socket, "so_linger", label);
      if (readOption(n, fd, "so_linger", rule, label) === 0) disconnect(socket, "close", label);
    }
    if (socket.kind === "unix-listener") untrack(socket.localKey);
  } catch {
    // The socket is closing anyway; what could not be read changes nothing.
  }
  socket.forget();
  idle();
}

/**
 * Applies a unix listener's `backlog` to the kernel (Deno always listens
 * with 1024): listen(2) again on its descriptor. Without the native layer
 * the value stays what it was before, informational.
 *
 * @param listener The runtime listener, just made.
 * @param backlog The queue length asked for.
 * @param label The address errors name.
 * @returns Whether it was applied.
 */
export function applyBacklog(
  listener: Deno.UnixListener,
  backlog: number,
  label: string | undefined,
): boolean {
  if (!nativeStatus().available) return false;
  const socket = new NativeSocket("listener", listener, () => label);
  try {
    const { n, fd } = socket.fd("listen", "backlog", false);
    if (n.sym.listen(fd, backlog) !== 0) throw n.fail("listen", "listen", label);
    return true;
  } finally {
    socket.forget();
    idle();
  }
}

/**
 * The accept source of a unix listener: the runtime listener's own, plus,
 * once its accepts are tracked (the listener or one of its streams was asked
 * for its descriptor), identification of each accepted stream as it lands.
 * Untracked, an accept costs one check more.
 *
 * @param listener The runtime listener.
 */
export function unixAcceptSource(
  listener: Deno.UnixListener,
): AcceptSource<Deno.UnixConn> & { readonly addr: Deno.Addr; [runtimeSocket](): object } {
  let key: string | undefined;
  const landed = (conn: Deno.UnixConn): Deno.UnixConn => {
    try {
      acceptLanded(native("accept", "accept"), key!, conn);
    } catch {
      // Identification is a help for later calls; an accept never fails for it.
    }
    idle();
    return conn;
  };
  return {
    accept(): Promise<Deno.UnixConn> {
      const accepting = listener.accept();
      if (!tracking()) return accepting;
      key ??= addrKey(listener.addr);
      return isTracked(key) ? accepting.then(landed) : accepting;
    },
    close(): void {
      listener.close();
      // A tracked listener's name is no longer watched (and frees the library).
      if (tracking()) untrack(key ??= addrKey(listener.addr));
    },
    get addr(): Deno.Addr {
      return listener.addr;
    },
    [runtimeSocket](): object {
      return listener;
    },
  };
}
