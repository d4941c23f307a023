/**
 * {@linkcode spawn}: start a program with an explicit map of its
 * descriptors ({@linkcode FileSpec} per child fd) and get a
 * {@linkcode Process} back.
 *
 * @example
 * ```ts
 * import { spawn } from "@netkit/netkit/process";
 *
 * await using child = await spawn(["echo", "hello"], { files: { 1: "piped" } });
 * console.log(await child.stdout.readLine()); // "hello"
 * console.log(await child.wait()); // { exited: 0 }
 * ```
 *
 * @module
 */

import { abortedError } from "../common/_deadline.ts";
import { NetError } from "../common/errors.ts";
import { toNetError } from "../common/_errors.ts";
import { invalidArgument, type Schema, validateOptions } from "../common/_options.ts";
import { Stream } from "../common/stream.ts";
import type { TcpListener } from "../tcp/listen.ts";
import type { UnixListener } from "../unix/listen.ts";
import type { UdpSocket } from "../udp/socket.ts";
import type { UnixDatagramSocket } from "../udp/unix.ts";
import { newProcess, type PumpSet } from "./_child.ts";
import { descriptorOf, wasHandedOver } from "./_handoff.ts";
import { type Plan, type Resolved, startChild, startPumps } from "./_spawn.ts";
import {
  checkSocket,
  isSocketHolder,
  isSocketStream,
  type SocketObject,
  type TakenSockets,
  takeSockets,
} from "./_sockets.ts";
import { Process } from "./process.ts";

/**
 * What appears at one of the child's descriptors: one of our descriptors by
 * number (handed over itself), `"inherit"` (ours of the same number),
 * `"null"` (`/dev/null`), `"piped"` (a {@linkcode Stream} at
 * `proc.stdio[fd]`; both ways above fd 2), a netkit {@linkcode Stream}
 * (handed over and closed here; pumped, so the child sees a pipe), or — with
 * `--allow-ffi` — a TCP or unix stream, a listener or a datagram socket,
 * whose socket itself the child gets (our object is closed).
 */
export type FileSpec =
  | number
  | "inherit"
  | "null"
  | "piped"
  | Stream
  | TcpListener
  | UnixListener
  | UdpSocket
  | UnixDatagramSocket;

/** Options of {@linkcode spawn}. */
export interface SpawnOptions {
  /** The program to run (default `args[0]`); PATH is searched when it has no `/`. */
  exe?: string;
  /** Variables to set (names without `=` or NUL, values without NUL). */
  env?: Record<string, string>;
  /** Start from an empty environment instead of ours (default `false`). */
  clearEnv?: boolean;
  /** The child's working directory (default ours). */
  cwd?: string;
  /** The child's user id (needs privileges; it must be able to enter `cwd`, by default ours). */
  uid?: number;
  /** The child's group id (needs privileges; as for `uid`, it must be able to enter `cwd`). */
  gid?: number;
  /**
   * `true`: the child leads a new process group (default `false`); it also
   * leads a new session (the runtime calls `setsid`). A {@linkcode Process}
   * (XPIO: join its group) is `not_supported`: see the platform notes.
   */
  pgroup?: boolean;
  /** Aborting it sends the child `SIGTERM`. */
  signal?: AbortSignal;
  /**
   * XPIO's sparse file map: child fd → {@linkcode FileSpec}. Fds 0–2 left
   * out are `"null"`; without `files`, fds 0–2 are inherited and no other
   * fd is open in the child.
   */
  files?: Record<number, FileSpec> | readonly FileSpec[];
}

/**
 * The highest child fd `files` accepts.
 *
 * @example
 * ```ts
 * import { MAX_FD } from "@netkit/netkit/process";
 *
 * console.log(MAX_FD); // 1023
 * ```
 */
export const MAX_FD = 1023;

const NAME_VALUES = ["inherit", "null", "piped"];
const INHERIT_ALL: Map<number, Resolved> = new Map([
  [0, { kind: "inherit" }],
  [1, { kind: "inherit" }],
  [2, { kind: "inherit" }],
]);

const SPAWN_RULES: Schema = {
  exe: { type: "string", nonEmpty: true },
  env: { type: "custom", accepts: "a record of strings", check: isRecord },
  clearEnv: { type: "boolean" },
  cwd: { type: "string", nonEmpty: true },
  uid: { type: "integer", min: 0, max: 0xffffffff },
  gid: { type: "integer", min: 0, max: 0xffffffff },
  pgroup: { type: "custom", accepts: "a boolean", check: isPgroup },
  signal: { type: "signal" },
  files: { type: "custom", accepts: "an object or array of child fd → file", check: isRecord },
};

function isRecord(value: unknown): boolean {
  return typeof value === "object" && value !== null;
}

function isPgroup(value: unknown): boolean {
  if (value instanceof Process) {
    throw new NetError(
      "not_supported",
      "joining another process group is not possible: a child can only be moved into a group " +
        "before it execs (the runtime runs no code there), and a pgroup: true child leads a new " +
        "session (the runtime calls setsid), whose group no process of ours may join; use pgroup: true",
      { op: "spawn", field: "pgroup" },
    );
  }
  return typeof value === "boolean";
}

function checkEnv(op: string, env: Record<string, string>): void {
  for (const [name, value] of Object.entries(env)) {
    if (name === "" || name.includes("=") || name.includes("\0")) {
      throw invalidArgument(op, "env", "names without '=' or NUL, not empty", name);
    }
    if (typeof value !== "string" || value.includes("\0")) {
      throw invalidArgument(op, "env", `a string without NUL for ${name}`, value);
    }
  }
}

function resolveFile(op: string, key: string, value: unknown): [number, Resolved] {
  const fd = /^(0|[1-9][0-9]{0,3})$/.test(key) ? Number(key) : -1;
  if (fd < 0 || fd > MAX_FD) {
    throw invalidArgument(op, "files", `child fd keys from 0 to ${MAX_FD}`, key);
  }
  if (typeof value === "string" && NAME_VALUES.includes(value)) {
    return [fd, { kind: value as "inherit" | "null" | "piped" }];
  }
  if (typeof value === "number" && Number.isInteger(value) && value >= 0) {
    return [fd, { kind: "fd", fd: value }];
  }
  if (isSocketHolder(value) || (isSocketStream(value) && !wasHandedOver(value))) {
    // Checked once every key is known to be valid (see plan).
    return [fd, { kind: "socket", object: value }];
  }
  if (value instanceof Stream) {
    if (value.closed || wasHandedOver(value)) {
      throw invalidArgument(op, "files", `an open stream not yet handed over (fd ${fd})`, value);
    }
    const own = descriptorOf(value);
    return [fd, own === undefined ? { kind: "stream", stream: value } : { kind: "fd", fd: own }];
  }
  throw invalidArgument(
    op,
    "files",
    `a descriptor number, "inherit", "null", "piped", a Stream, a listener or a datagram socket (fd ${fd})`,
    value,
  );
}

/** Validates everything; throws `invalid_argument` before anything starts. */
function plan(op: string, args: unknown, options: unknown): Plan {
  if (!Array.isArray(args) || args.length === 0) {
    throw invalidArgument(op, "args", "a non-empty array of strings", args);
  }
  for (const arg of args) {
    if (typeof arg !== "string" || arg.includes("\0")) {
      throw invalidArgument(op, "args", "strings without NUL", arg);
    }
  }
  const checked = validateOptions<SpawnOptions>(op, options, SPAWN_RULES);
  if (checked.env !== undefined) checkEnv(op, checked.env);
  const exe = checked.exe ?? args[0];
  if (exe === "" || exe.includes("\0")) {
    throw invalidArgument(op, "exe", "a program name or path", exe);
  }
  const files = checked.files === undefined ? INHERIT_ALL : new Map<number, Resolved>();
  if (checked.files !== undefined) {
    for (const [key, value] of Object.entries(checked.files)) {
      const [fd, resolved] = resolveFile(op, key, value);
      files.set(fd, resolved);
    }
    for (const fd of [0, 1, 2]) if (!files.has(fd)) files.set(fd, { kind: "null" });
    for (const [fd, file] of files) {
      if (file.kind !== "socket" || checkSocket(op, fd, file.object) === "socket") continue;
      // A stream without --allow-ffi is pumped, as any stream.
      files.set(fd, { kind: "stream", stream: file.object as Stream });
    }
  }
  return {
    exe,
    argv0: args[0],
    args: args.slice(1),
    options: checked,
    files,
    maxFd: Math.max(...files.keys()),
    streams: [...files.values()].some((file) => file.kind === "stream"),
  };
}

/**
 * Starts a program (XPIO's `spawn`) with an explicit map of the descriptors
 * it gets. Children that use only fds 0–2 as `"inherit"`/`"null"`/`"piped"`
 * start through `Deno.Command`; others through `node:child_process` (part
 * of the runtime), which can place any descriptor at any fd.
 *
 * With `--allow-ffi`, a `TcpStream`, `UnixStream`, `TcpListener`,
 * `UnixListener`, `UdpSocket` or `UnixDatagramSocket` in `files` is handed
 * over itself: the child gets the socket at that fd (in blocking mode; a
 * netkit child adopts it with `fdopen(n)`), and the object is closed here
 * without shutting the child's socket down — also when the program then
 * fails to start. The socket is taken from the runtime before the child
 * starts, so bytes, connections and datagrams arriving meanwhile are the
 * child's; a stream whose bytes the runtime already took (buffered unread
 * bytes, or a read still outstanding after a timeout) is refused. A unix
 * listener's path stays for the child.
 *
 * Other streams (`pipe()` and `socketpair()` ends, TLS streams, and every
 * stream without `--allow-ffi`) are closed here and pumped by netkit: the
 * child sees a pipe (a socket pair above fd 2) and no byte is lost. `pipe()`
 * and `socketpair()` ends close at once; other streams close when their pump
 * ends, so leave them alone until then. Without `--allow-ffi`, listeners
 * and datagram sockets are `not_supported`.
 *
 * A `writeAll` to a child that stops reading rejects `broken_pipe`, and
 * `error.written` counts the bytes the child's end took in whole writes:
 * exactly above fd 2 (a socket pair); on fds 0–2 (pipes) the child may have
 * read up to 64 KiB beyond it.
 *
 * Permissions: `--allow-run`. A child with any fd above 2, a descriptor
 * placed at another fd number (`{ 1: 2 }`) or an `exe` apart from `args[0]`
 * starts through `node:child_process`, which reads the whole environment:
 * that also needs `--allow-env` (not scoped to names), even without `env`.
 * `"null"` above fd 2 opens `/dev/null`: `--allow-read` and `--allow-write`
 * on it.
 *
 * @param args The program and its arguments (`args[0]` is the child's `argv[0]`).
 * @param options `exe`, `env`, `clearEnv`, `cwd`, `uid`, `gid`, `pgroup`,
 *   `signal`, `files`.
 * @returns The running {@linkcode Process}.
 * @throws {NetError} `invalid_argument` naming the option (bad args, env,
 *   files key or value, unknown option; a closed socket, or a stream with
 *   buffered bytes or an outstanding read, in `files`) before anything
 *   starts; `not_supported` for a listener or datagram socket in `files`
 *   without `--allow-ffi`, or for `pgroup` set to a process;
 *   `not_found` for a missing program or cwd; `access_denied` for a file
 *   that is not executable, a uid change without privileges, a `uid`/`gid`
 *   that cannot enter the working directory (the message says so; pass
 *   `cwd`), or a missing permission; `aborted` when `signal` is already
 *   aborted.
 *
 * @example Read a child's stdout
 * ```ts
 * import { spawn } from "@netkit/netkit/process";
 *
 * await using child = await spawn(["echo", "hello"], { files: { 1: "piped" } });
 * console.log(await child.stdout.readLine()); // "hello"
 * console.log(await child.wait()); // { exited: 0 }
 * ```
 *
 * @example A child serving on our listener itself (with --allow-ffi)
 * ```ts
 * import { spawn } from "@netkit/netkit/process";
 * import { connect, listen } from "@netkit/netkit/tcp";
 *
 * const listener = listen({ hostname: "127.0.0.1", port: 0 });
 * const port = listener.addr.port;
 * const serve = "import socket\ns = socket.socket(fileno=3)\nc, _ = s.accept()\nc.sendall(b'hi\\n')";
 * await using child = await spawn(["python3", "-c", serve], { files: { 3: listener } });
 * console.log(listener.closed); // true
 * await using client = await connect("127.0.0.1", port);
 * console.log(await client.readLine()); // "hi"
 * await child.wait();
 * ```
 *
 * @example A child that reports on fd 3 while its stdout stays free
 * ```ts
 * import { spawn } from "@netkit/netkit/process";
 *
 * await using child = await spawn(["sh", "-c", "echo progress >&3"], {
 *   files: { 1: "inherit", 2: "inherit", 3: "piped" },
 * });
 * console.log(await child.stdio[3]!.readLine()); // "progress"
 * await child.wait();
 * ```
 */
export async function spawn(args: readonly string[], options?: SpawnOptions): Promise<Process> {
  const planned = plan("spawn", args, options);
  const signal = planned.options.signal;
  if (signal?.aborted) throw abortedError("spawn", signal, planned.exe);
  const exe = planned.exe;
  const sockets = takeSocketsOf(planned);
  let started: Awaited<ReturnType<typeof startChild>>;
  try {
    started = await startChild(planned);
  } finally {
    sockets?.release();
  }
  const [child, pipes] = started;
  let pumps: PumpSet | null = null;
  try {
    if (planned.streams) pumps = await startPumps(planned, pipes);
  } catch (error) {
    await newProcess({ child, stdio: Object.fromEntries(pipes), pumps: null, pgroup: false })
      .close();
    throw toNetError(error, "spawn", exe);
  }
  closeFdopenStreams(planned.options.files);
  const process = newProcess({
    child,
    stdio: Object.fromEntries(pipes),
    pumps,
    pgroup: planned.options.pgroup === true,
  });
  if (signal !== undefined) {
    const onAbort = () => process.kill("SIGTERM");
    if (signal.aborted) onAbort();
    else {
      signal.addEventListener("abort", onAbort, { once: true });
      child.status.then(() => signal.removeEventListener("abort", onAbort));
    }
  }
  return process;
}

/**
 * Takes the sockets handed over whole from their objects (which close) and
 * puts their duplicates in the plan as our descriptors.
 */
function takeSocketsOf(planned: Plan): TakenSockets | undefined {
  const objects: SocketObject[] = [];
  for (const file of planned.files.values()) if (file.kind === "socket") objects.push(file.object);
  if (objects.length === 0) return undefined;
  const taken = takeSockets("spawn", objects);
  for (const [fd, file] of planned.files) {
    if (file.kind === "socket") {
      planned.files.set(fd, { kind: "fd", fd: taken.fds.get(file.object)! });
    }
  }
  return taken;
}

function closeFdopenStreams(files: SpawnOptions["files"]): void {
  if (files === undefined) return;
  for (const value of Object.values(files)) {
    if (value instanceof Stream && descriptorOf(value) !== undefined) value.close();
  }
}
