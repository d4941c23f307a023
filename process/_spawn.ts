/**
 * The two engines behind `spawn`: `Deno.Command` (fds 0–2 only, the
 * fastest) and `node:child_process` (any descriptor at any fd), and the
 * pumps that carry streams handed to a child.
 *
 * @module
 */

import { spawn as nodeSpawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import type { Readable, Writable } from "node:stream";
import { NetError } from "../common/errors.ts";
import { toNetError } from "../common/_errors.ts";
import { Stream } from "../common/stream.ts";
import type { ChildHandle, PumpSet } from "./_child.ts";
import { type TakenStream, takeOver } from "./_handoff.ts";
import { pump } from "./_pump.ts";
import { NodeTransport, ReadableTransport, WritableTransport } from "./_transport.ts";
import type { SocketObject } from "./_sockets.ts";
import type { ProcessStatus } from "./process.ts";
import type { SpawnOptions } from "./spawn.ts";

/** One child fd's file, validated. */
export type Resolved =
  | { kind: "inherit" | "null" | "piped" }
  | { kind: "fd"; fd: number }
  | { kind: "stream"; stream: Stream }
  | { kind: "socket"; object: SocketObject };

/** A validated spawn: what to run and what goes at each child fd. */
export interface Plan {
  exe: string;
  argv0: string;
  args: string[];
  options: SpawnOptions;
  files: Map<number, Resolved>;
  maxFd: number;
  /** Whether some file is a stream to pump. */
  streams: boolean;
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
export async function startPumps(plan: Plan, pipes: Map<number, Stream>): Promise<PumpSet> {
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
 * Starts the child through the engine that can place its files; the pipes
 * come back by child fd.
 */
export async function startChild(plan: Plan): Promise<[ChildHandle, Map<number, Stream>]> {
  try {
    return denoCan(plan) ? spawnDeno(plan) : await spawnNode(plan);
  } catch (error) {
    throw explainDenied(error, plan);
  }
}

/** Adds the likely cause when a child under another uid/gid is denied. */
function explainDenied(error: unknown, plan: Plan): unknown {
  const { uid, gid, cwd } = plan.options;
  if (!(error instanceof NetError) || error.code !== "access_denied") return error;
  if (uid === undefined && gid === undefined) return error;
  const who = [uid === undefined ? "" : `uid ${uid}`, gid === undefined ? "" : `gid ${gid}`]
    .filter((part) => part !== "").join(", ");
  const where = cwd === undefined ? `the working directory ${workingDirectory()}` : cwd;
  const hint = cwd === undefined ? "? pass cwd" : "?";
  return new NetError(
    "access_denied",
    `${error.detail} (the child runs as ${who}: can it enter ${where}${hint})`,
    { op: error.op, address: error.address, cause: error.cause ?? error },
  );
}

function workingDirectory(): string {
  try {
    return Deno.cwd();
  } catch {
    return "(unknown without --allow-read)";
  }
}
