/**
 * Handing a socket object itself to a child (`spawn`'s `files` with a TCP
 * or unix stream, a listener or a datagram socket, with `--allow-ffi`).
 *
 * The child gets a duplicate of the socket's descriptor at its fd, placed
 * there by `node:child_process` between fork and exec. Our object must then
 * close without touching the socket the child shares: Deno's close of a
 * stream shuts its write side down (the child's peer would read EOF), so the
 * socket is taken away from the runtime first, synchronously:
 *
 * 1. a close-on-exec duplicate keeps the socket (the one given to the child);
 * 2. the socket's registration leaves every epoll instance of the process
 *    (`epoll_ctl(EPOLL_CTL_DEL)` on the descriptor number, which names the
 *    socket itself): left in place, the runtime's reactor would go on
 *    receiving the child's readiness events for an object it has freed;
 * 3. `/dev/null` is placed over the descriptor number (`dup3`), so the
 *    runtime's shutdown, deregistration and close all land on the dummy;
 * 4. the object is closed (pending calls on it reject `closed`).
 *
 * From then on nothing in this process can read, accept or receive on the
 * socket, so no byte, connection or datagram goes astray while the child
 * starts. The duplicate is reset to blocking mode (as XPIO does for granted
 * files: the child's programs expect it) and closed once the child started.
 *
 * @module
 */

import { NetError } from "../common/errors.ts";
import { invalidArgument } from "../common/_options.ts";
import { Listener } from "../common/listener.ts";
import { streamInternals } from "../common/_stream_internals.ts";
import { boundPaths } from "../common/_unix_path.ts";
import { listDescriptors } from "../common/_native/fd.ts";
import { hold, idle, type Native, native, nativeStatus, unhold } from "../common/_native/libc.ts";
import { TcpStream } from "../tcp/stream.ts";
import { UnixStream } from "../unix/stream.ts";
import { DatagramSocket } from "../udp/datagram.ts";

/** A socket object `spawn` can hand to a child: a TCP or unix stream, a listener or a datagram socket. */
export interface SocketObject {
  readonly closed: boolean;
  fileno(): number;
  close(): unknown;
}

/** A stream whose socket itself can go to a child (TLS sessions cannot: they are pumped). */
export function isSocketStream(value: unknown): value is TcpStream | UnixStream {
  return value instanceof TcpStream || value instanceof UnixStream;
}

/** Whether `value` is a listener or a datagram socket. */
export function isSocketHolder(value: unknown): value is SocketObject {
  return value instanceof Listener || value instanceof DatagramSocket;
}

function kindOf(value: SocketObject): string {
  if (value instanceof Listener) return "a listener";
  if (value instanceof DatagramSocket) return "a datagram socket";
  return "a stream";
}

/**
 * Checks one socket object given at child fd `fd`: open, and with nothing
 * the runtime already took from the socket that the child would miss.
 *
 * @returns `"socket"` when the socket itself goes to the child; `"pump"`
 *   for a stream without `--allow-ffi` (it is pumped, as any stream).
 * @throws {NetError} `invalid_argument` (field `files`): closed, or a
 *   stream with buffered bytes or a read outstanding; `not_supported`
 *   naming `--allow-ffi` for a listener or datagram socket without it, and
 *   for a unix listener whose path Deno removes when ours closes.
 */
export function checkSocket(op: string, fd: number, value: SocketObject): "socket" | "pump" {
  if (value.closed) {
    throw invalidArgument(op, "files", `an open socket not yet handed over (fd ${fd})`, value);
  }
  if (!nativeStatus().available) {
    if (isSocketStream(value)) return "pump";
    try {
      native(op, `handing ${kindOf(value)} itself to a child`);
    } finally {
      idle();
    }
  }
  if (isSocketStream(value)) {
    if (value.buffered > 0) {
      throw new NetError(
        "invalid_argument",
        `the stream at fd ${fd} holds ${value.buffered} buffered unread bytes the child would ` +
          "not see (read them before handing the stream over)",
        { op, field: "files" },
      );
    }
    if (streamInternals().reading(value)) {
      throw new NetError(
        "invalid_argument",
        `a read of the stream at fd ${fd} is still outstanding in the runtime (e.g. after a ` +
          "timed-out read); its bytes would not reach the child: read again before handing it over",
        { op, field: "files" },
      );
    }
  }
  const bound = boundPaths.get(value);
  if (bound !== undefined && value instanceof Listener && bound.keepable === false) {
    throw new NetError(
      "not_supported",
      "this unix listener was bound in place (its directory leaves no room for a temporary " +
        "name), and Deno removes such a path when our listener closes: the child's socket would " +
        "lose its name. Use a shorter directory",
      { op, field: "files" },
    );
  }
  return "socket";
}

/** The sockets taken from their objects: child-bound duplicates, closed by {@linkcode release}. */
export interface TakenSockets {
  /** The duplicate of each object's socket (close-on-exec, blocking). */
  readonly fds: Map<SocketObject, number>;
  /** Closes the duplicates (after the spawn, whether it started or not). */
  release(): void;
}

const DEV_NULL = new TextEncoder().encode("/dev/null\0");

/** The runtime stops watching `fd`: its registration leaves every epoll instance that has it. */
function unregister(n: Native, fd: number): void {
  for (const candidate of listDescriptors(n)) {
    // EINVAL (no epoll instance) and ENOENT (not registered there) are the usual answers.
    if (candidate !== fd) n.sym.epoll_ctl(candidate, n.platform.EPOLL_CTL_DEL, fd, null);
  }
}

function takeOne(n: Native, op: string, value: SocketObject, fd: number): number {
  const p = n.platform;
  const copy = n.sym.fcntl3(fd, p.F_DUPFD_CLOEXEC, 3);
  if (copy < 0) throw n.fail("fcntl(F_DUPFD_CLOEXEC)", op);
  const dummy = n.sym.open(DEV_NULL, p.O_RDWR | p.O_CLOEXEC);
  if (dummy < 0) {
    const failure = n.fail("open(/dev/null)", op);
    n.sym.close(copy);
    throw failure;
  }
  unregister(n, fd);
  const placed = n.sym.dup3(dummy, fd, p.O_CLOEXEC);
  n.sym.close(dummy);
  if (placed < 0) {
    // Cannot happen for a valid number; the object then closes the socket as usual.
    n.sym.close(copy);
    throw n.fail("dup3", op);
  }
  boundPaths.get(value)?.keep?.();
  value.close();
  const flags = n.sym.fcntl3(copy, p.F_GETFL, 0);
  if (flags >= 0 && (flags & p.O_NONBLOCK) !== 0) {
    n.sym.fcntl3(copy, p.F_SETFL, flags & ~p.O_NONBLOCK);
  }
  return copy;
}

/**
 * Takes each object's socket from the runtime and closes the object (see
 * the module's doc). All objects were checked by {@linkcode checkSocket}.
 *
 * @throws {NetError} from `fileno()` (`not_supported` when the socket
 *   cannot be told apart from another), before any object is touched.
 */
export function takeSockets(op: string, objects: Iterable<SocketObject>): TakenSockets {
  const n = native(op, "handing a socket to a child");
  const fds = new Map<SocketObject, number>();
  hold();
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    for (const copy of fds.values()) n.sym.close(copy);
    fds.clear();
    unhold();
  };
  try {
    // Every descriptor is found before any object is touched.
    const found = new Map<SocketObject, number>();
    for (const value of objects) if (!found.has(value)) found.set(value, value.fileno());
    for (const [value, fd] of found) fds.set(value, takeOne(n, op, value, fd));
  } catch (error) {
    release();
    throw error;
  }
  return { fds, release };
}
