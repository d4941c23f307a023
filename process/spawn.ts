import { spawn as nodeSpawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import type { Readable, Writable } from "node:stream";
import { abortedError } from "../common/deadline.ts";
import { NetError, toNetError } from "../common/errors.ts";
import { invalidArgument, type Schema, validateOptions } from "../common/options.ts";
import { Stream } from "../common/stream.ts";
import { descriptorOf, type TakenStream, takeOver, wasHandedOver } from "./_handoff.ts";
import { pump } from "./_pump.ts";
import { NodeTransport, ReadableTransport, WritableTransport } from "./_transport.ts";
import { type ChildHandle, Process, type ProcessStatus, type PumpSet } from "./process.ts";

/**
 * What appears at one of the child's descriptors: one of our descriptors by
 * number (handed over itself), `"inherit"` (ours of the same number),
 * `"null"` (`/dev/null`), `"piped"` (a {@linkcode Stream} at
 * `proc.stdio[fd]`; both ways above fd 2), or a netkit {@linkcode Stream}
 * (handed over and closed here; pumped, so the child sees a pipe).
 */
export type FileSpec = number | "inherit" | "null" | "piped" | Stream;

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
  /** The child's user id (needs privileges). */
  uid?: number;
  /** The child's group id (needs privileges). */
  gid?: number;
  /** `true`: the child leads a new process group (default `false`). */
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

type Resolved =
  | { kind: "inherit" | "null" | "piped" }
  | { kind: "fd"; fd: number }
  | { kind: "stream"; stream: Stream };

interface Plan {
  exe: string;
  argv0: string;
  args: string[];
  options: SpawnOptions;
  files: Map<number, Resolved>;
  maxFd: number;
  /** Whether some file is a stream to pump. */
  streams: boolean;
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
      "joining another process group needs setpgid(), which Deno does not expose; use pgroup: true",
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
    `a descriptor number, "inherit", "null", "piped" or a Stream (fd ${fd})`,
    value,
  );
}

/** Validates everything; throws `invalid_argument` before anything starts. */
export function plan(op: string, args: unknown, options: unknown): Plan {
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

/** `Deno.Command` can do it: only fds 0–2, none mapped to another descriptor. */
function denoCan(plan: Plan): boolean {
  if (plan.maxFd > 2 || plan.argv0 !== plan.exe) return false;
  for (const [fd, file] of plan.files) {
    if (file.kind === "fd" && file.fd !== fd) return false;
  }
  return true;
}

function statusOf(code: number | null, signal: string | null): ProcessStatus {
  return signal !== null ? { signaled: signal as Deno.Signal } : { exited: code ?? 0 };
}

function streamOf(transport: ConstructorParameters<typeof Stream>[0], label: string): Stream {
  return new Stream(transport, { localAddr: null, remoteAddr: null, label });
}

type Mode = "inherit" | "null" | "piped";

function denoMode(file: Resolved | undefined): Mode {
  if (file === undefined || file.kind === "fd" || file.kind === "inherit") return "inherit";
  return file.kind === "null" ? "null" : "piped";
}

/** Spawns through `Deno.Command` (the fastest engine). */
function spawnDeno(plan: Plan): [ChildHandle, Map<number, Stream>] {
  const { cwd, env, clearEnv, uid, gid, pgroup } = plan.options;
  const command = new Deno.Command(plan.exe, {
    args: plan.args,
    cwd,
    env,
    clearEnv,
    uid,
    gid,
    detached: pgroup === true,
    stdin: denoMode(plan.files.get(0)),
    stdout: denoMode(plan.files.get(1)),
    stderr: denoMode(plan.files.get(2)),
  });
  let child: Deno.ChildProcess;
  try {
    child = command.spawn();
  } catch (error) {
    throw toNetError(error, "spawn", plan.exe);
  }
  const pipes = new Map<number, Stream>();
  const label = (fd: number) => `pid ${child.pid} fd ${fd}`;
  if (denoMode(plan.files.get(0)) === "piped") {
    pipes.set(0, streamOf(new WritableTransport(child.stdin, label(0)), label(0)));
  }
  if (denoMode(plan.files.get(1)) === "piped") {
    pipes.set(1, streamOf(new ReadableTransport(child.stdout, label(1)), label(1)));
  }
  if (denoMode(plan.files.get(2)) === "piped") {
    pipes.set(2, streamOf(new ReadableTransport(child.stderr, label(2)), label(2)));
  }
  const status = child.status.then((s) => statusOf(s.code, s.signal));
  return [{ pid: child.pid, status, kill: (signal) => child.kill(signal) }, pipes];
}

function nodeEnv(options: SpawnOptions): Record<string, string> | undefined {
  if (options.clearEnv) return { ...options.env };
  if (options.env === undefined) return undefined;
  return { ...Deno.env.toObject(), ...options.env };
}

/** A descriptor of ours that is not open (EBADF) is a bad `files` value. */
function spawnError(error: unknown, exe: string): NetError {
  const failure = toNetError(error, "spawn", exe);
  if (failure.code !== "closed") return failure;
  return new NetError("invalid_argument", "a descriptor given in files is not open here", {
    op: "spawn",
    address: exe,
    field: "files",
    cause: error,
  });
}

function started(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    const onSpawn = () => {
      child.off("error", onError);
      resolve();
    };
    const onError = (error: unknown) => {
      child.off("spawn", onSpawn);
      reject(error);
    };
    child.once("spawn", onSpawn);
    child.once("error", onError);
  });
}

/** Spawns through `node:child_process`, the engine that maps any fd. */
async function spawnNode(plan: Plan): Promise<[ChildHandle, Map<number, Stream>]> {
  const { cwd, uid, gid, pgroup } = plan.options;
  const opened: number[] = [];
  const stdio: (string | number)[] = [];
  let child: ChildProcess;
  try {
    for (let fd = 0; fd <= plan.maxFd; fd++) {
      const file = plan.files.get(fd);
      if (file === undefined) stdio.push("ignore");
      else if (file.kind === "fd") stdio.push(file.fd);
      else if (file.kind === "inherit") stdio.push(fd <= 2 ? "inherit" : fd);
      else if (file.kind === "null") {
        if (fd <= 2) stdio.push("ignore");
        else {
          opened.push(openSync("/dev/null", "r+"));
          stdio.push(opened[opened.length - 1]);
        }
      } else stdio.push("pipe");
    }
    child = nodeSpawn(plan.exe, plan.args, {
      argv0: plan.argv0,
      cwd,
      env: nodeEnv(plan.options),
      uid,
      gid,
      detached: pgroup === true,
      stdio: stdio as ("pipe" | "ignore" | "inherit" | number)[],
    });
  } catch (error) {
    for (const fd of opened) closeSync(fd);
    throw spawnError(error, plan.exe);
  }
  const status = new Promise<ProcessStatus>((resolve) => {
    child.once("exit", (code, signal) => resolve(statusOf(code, signal)));
  });
  try {
    await started(child);
  } catch (error) {
    for (const stream of child.stdio) (stream as Readable | null)?.destroy();
    throw spawnError(error, plan.exe);
  } finally {
    for (const fd of opened) closeSync(fd);
  }
  const pipes = new Map<number, Stream>();
  child.stdio.forEach((stream, fd) => {
    if (stream === null || stdio[fd] !== "pipe") return;
    const label = `pid ${child.pid} fd ${fd}`;
    const readable = fd === 0 ? null : stream as Readable;
    const writable = fd === 1 || fd === 2 ? null : stream as Writable;
    pipes.set(fd, streamOf(new NodeTransport(readable, writable, label), label));
  });
  const kill = (signal: Deno.Signal | number) => {
    child.kill(signal as NodeJS.Signals | number);
  };
  return [{ pid: child.pid!, status, kill }, pipes];
}

/** Starts the pumps between the child's pipes and the streams handed to it. */
async function startPumps(plan: Plan, pipes: Map<number, Stream>): Promise<PumpSet> {
  const handed = [...plan.files].filter(([, file]) => file.kind === "stream") as [
    number,
    { kind: "stream"; stream: Stream },
  ][];
  const taken = new Map<Stream, TakenStream & { users: number }>();
  for (const [, { stream }] of handed) {
    const entry = taken.get(stream);
    if (entry !== undefined) entry.users++;
    else taken.set(stream, { ...await takeOver(stream), users: 1 });
  }
  const input = new AbortController();
  const childSides: Stream[] = [];
  const all: Promise<void>[] = [];
  for (const [fd, { stream }] of handed) {
    const side = pipes.get(fd)!;
    pipes.delete(fd);
    childSides.push(side);
    const entry = taken.get(stream)!;
    const flows: Promise<void>[] = [];
    if (fd !== 1 && fd !== 2) {
      flows.push(pump(entry.stream, side, entry.head, input.signal));
      entry.head = null;
    }
    if (fd !== 0) flows.push(pump(side, entry.stream, null));
    all.push(
      Promise.all(flows).then(() => {
        side.close();
        if (--entry.users === 0) entry.stream.close();
      }),
    );
  }
  return {
    done: Promise.all(all),
    stopInput: () => input.abort(),
    close: () => {
      input.abort();
      for (const side of childSides) side.close();
    },
  };
}

/**
 * Starts a program (XPIO's `spawn`) with an explicit map of the descriptors
 * it gets. Children that use only fds 0–2 as `"inherit"`/`"null"`/`"piped"`
 * start through `Deno.Command`; others through `node:child_process` (part
 * of the runtime), which can place any descriptor at any fd.
 *
 * Streams given in `files` whose descriptor Deno does not expose (sockets,
 * `pipe()` and `socketpair()` ends) are closed here and pumped by netkit: the
 * child sees a pipe (a socket pair above fd 2) and no byte is lost. `pipe()`
 * and `socketpair()` ends close at once; other streams close when their pump
 * ends, so leave them alone until then.
 *
 * @param args The program and its arguments (`args[0]` is the child's `argv[0]`).
 * @param options `exe`, `env`, `clearEnv`, `cwd`, `uid`, `gid`, `pgroup`,
 *   `signal`, `files`.
 * @returns The running {@linkcode Process}.
 * @throws {NetError} `invalid_argument` naming the option (bad args, env,
 *   files key or value, unknown option) before anything starts;
 *   `not_found` for a missing program or cwd; `access_denied` for a file
 *   that is not executable, a uid change without privileges, or without
 *   `--allow-run`; `aborted` when `signal` is already aborted.
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
 * @example A child that reports on fd 3 while its stdout stays free
 * ```ts
 * import { spawn } from "@netkit/netkit/process";
 *
 * await using child = await spawn(["sh", "-c", "echo progress >&3"], {
 *   files: { 1: "inherit", 2: "inherit", 3: "piped" },
 * });
 * console.log(await child.stdio[3].readLine()); // "progress"
 * await child.wait();
 * ```
 */
export async function spawn(args: readonly string[], options?: SpawnOptions): Promise<Process> {
  const planned = plan("spawn", args, options);
  const signal = planned.options.signal;
  if (signal?.aborted) throw abortedError("spawn", signal, planned.exe);
  const [child, pipes] = denoCan(planned) ? spawnDeno(planned) : await spawnNode(planned);
  let pumps: PumpSet | null = null;
  try {
    if (planned.streams) pumps = await startPumps(planned, pipes);
  } catch (error) {
    await new Process(child, Object.fromEntries(pipes), null, false).close();
    throw toNetError(error, "spawn", planned.exe);
  }
  closeFdopenStreams(planned.options.files);
  const process = new Process(
    child,
    Object.fromEntries(pipes),
    pumps,
    planned.options.pgroup === true,
  );
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

function closeFdopenStreams(files: SpawnOptions["files"]): void {
  if (files === undefined) return;
  for (const value of Object.values(files)) {
    if (value instanceof Stream && descriptorOf(value) !== undefined) value.close();
  }
}
