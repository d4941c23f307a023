/**
 * The {@linkcode Process} class (a running or finished child, made by
 * `spawn`) and the types of its results.
 *
 * @example
 * ```ts
 * import { spawn } from "@netkit/netkit/process";
 *
 * await using child = await spawn(["sh", "-c", "exit 3"]);
 * console.log(await child.wait()); // { exited: 3 }
 * ```
 *
 * @module
 */

import type { DeadlineOptions } from "../common/deadline.ts";
import { withDeadline } from "../common/_deadline.ts";
import { NetError } from "../common/errors.ts";
import { toNetError } from "../common/_errors.ts";
import { DEADLINE_RULES, validateOptions } from "../common/_options.ts";
import { type Pollable, pollable } from "../common/readiness.ts";
import type { Stream } from "../common/stream.ts";
import {
  type ChildHandle,
  type ProcessParts,
  type PumpSet,
  registerProcessFactory,
} from "./_child.ts";
import { checkSignal } from "./_signal.ts";

/**
 * How a child ended (XPIO's `wait` result): it exited with a code, or a
 * signal ended it. The other field is `undefined`, so `status.exited === 0`
 * works without narrowing.
 */
export type ProcessStatus =
  | { readonly exited: number; readonly signaled?: undefined }
  | { readonly signaled: Deno.Signal; readonly exited?: undefined };

/** Options of {@linkcode Process.kill}. */
export interface KillOptions {
  /** Signal the child's whole process group (needs `pgroup: true` at spawn). */
  group?: boolean;
}

const KILL_RULES = { group: { type: "boolean" } } as const;

/** What the process being made consists of; set only while `spawn`'s factory runs. */
let making: ProcessParts | undefined;

/**
 * A running or finished child process (XPIO's process object), made by
 * `spawn`. Its pipes are netkit {@linkcode Stream}s; it is reaped in the
 * background, so it never stays a zombie, and disposing it kills it, reaps
 * it and closes its pipes.
 *
 * @example
 * ```ts
 * import { spawn } from "@netkit/netkit/process";
 *
 * await using child = await spawn(["sh", "-c", "exit 3"]);
 * console.log(await child.wait()); // { exited: 3 }
 * ```
 */
export class Process implements AsyncDisposable {
  #child: ChildHandle;
  #stdio: Readonly<Record<number, Stream | undefined>>;
  #pumps: PumpSet | null;
  #pgroup: boolean;
  #status: ProcessStatus | undefined;
  #done: Promise<ProcessStatus>;
  #closed = false;

  static {
    // Only spawn makes processes: the parts it passes are not public types.
    registerProcessFactory((parts) => {
      making = parts;
      try {
        return new Process();
      } finally {
        making = undefined;
      }
    });
  }

  /** Processes come from `spawn`; anything else gets `invalid_argument`. */
  private constructor() {
    if (making === undefined) {
      throw new NetError("invalid_argument", "a Process comes from spawn(), not new Process()", {
        op: "Process",
      });
    }
    const { child, stdio, pumps, pgroup } = making;
    this.#child = child;
    this.#stdio = Object.freeze(stdio);
    this.#pumps = pumps;
    this.#pgroup = pgroup;
    const exited = child.status.then((status) => {
      this.#status = status;
      return status;
    });
    this.#done = pumps === null ? exited : exited.then(async (status) => {
      pumps.stopInput();
      await pumps.done;
      return status;
    });
  }

  /** The child's process id. */
  get pid(): number {
    return this.#child.pid;
  }

  /**
   * Child fd → stream, for every fd spawned as `"piped"`; `undefined` at
   * any other fd (so `child.stdio[3]!` once you know fd 3 was piped). The
   * record is frozen.
   *
   * @example
   * ```ts
   * import { spawn } from "@netkit/netkit/process";
   *
   * await using child = await spawn(["sh", "-c", "echo hi >&3"], { files: { 3: "piped" } });
   * console.log(Object.keys(child.stdio)); // ["3"]
   * console.log(child.stdio[1]); // undefined
   * console.log(await child.stdio[3]!.readLine()); // "hi"
   * await child.wait();
   * ```
   */
  get stdio(): Readonly<Record<number, Stream | undefined>> {
    return this.#stdio;
  }

  #pipe(fd: number): Stream {
    const stream = this.#stdio[fd];
    if (stream !== undefined) return stream;
    throw new NetError(
      "invalid_argument",
      `fd ${fd} of the child is not "piped"; spawn it with files: { ${fd}: "piped" }`,
      { op: "stdio", address: `pid ${this.pid}`, field: "files" },
    );
  }

  /**
   * The child's stdin (`stdio[0]`).
   *
   * @throws {NetError} `invalid_argument` when fd 0 was not `"piped"`.
   */
  get stdin(): Stream {
    return this.#pipe(0);
  }

  /**
   * The child's stdout (`stdio[1]`).
   *
   * @throws {NetError} `invalid_argument` when fd 1 was not `"piped"`.
   */
  get stdout(): Stream {
    return this.#pipe(1);
  }

  /**
   * The child's stderr (`stdio[2]`).
   *
   * @throws {NetError} `invalid_argument` when fd 2 was not `"piped"`.
   */
  get stderr(): Stream {
    return this.#pipe(2);
  }

  /**
   * Sends a signal (XPIO's `kill`). Harmless once the child has exited.
   *
   * @param signal A signal name (default `"SIGTERM"`) or number.
   * @param options `group: true` signals the child's whole process group
   *   (grandchildren too); it needs `pgroup: true` at spawn.
   * @throws {NetError} `invalid_argument` for an unknown signal, or `group`
   *   without `pgroup`; `access_denied` without `--allow-run`.
   *
   * @example
   * ```ts
   * import { spawn } from "@netkit/netkit/process";
   *
   * await using child = await spawn(["sleep", "10"]);
   * child.kill();
   * console.log(await child.wait()); // { signaled: "SIGTERM" }
   * child.kill(); // harmless after exit
   * ```
   */
  kill(signal: Deno.Signal | number = "SIGTERM", options?: KillOptions): void {
    const checked = checkSignal("kill", signal);
    const { group } = validateOptions<KillOptions>("kill", options, KILL_RULES);
    if (group) {
      if (!this.#pgroup) {
        throw new NetError(
          "invalid_argument",
          "group: true needs a child spawned with pgroup: true (else it shares our group)",
          { op: "kill", address: `pid ${this.pid}`, field: "group" },
        );
      }
      try {
        Deno.kill(-this.pid, checked);
      } catch (error) {
        const failure = toNetError(error, "kill", `group ${this.pid}`);
        if (failure.code !== "not_found") throw failure;
      }
      return;
    }
    if (this.#status !== undefined) return;
    try {
      this.#child.kill(checked);
    } catch (error) {
      // The child exited between our check and the signal.
      if (error instanceof TypeError && /terminated/.test(error.message)) return;
      throw toNetError(error, "kill", `pid ${this.pid}`);
    }
  }

  /**
   * Waits until the child exits (XPIO's `wait`). When streams were handed
   * to the child in `files`, it also waits until everything the child wrote
   * to them has been delivered.
   *
   * @param options `{ timeout, signal }`: stop waiting (the child runs on).
   * @returns `{ exited: code }` or `{ signaled: "SIGTERM" }` (…).
   * @throws {NetError} `timeout`, `aborted`.
   *
   * @example
   * ```ts
   * import { spawn } from "@netkit/netkit/process";
   *
   * await using child = await spawn(["true"]);
   * console.log(await child.wait()); // { exited: 0 }
   * ```
   */
  wait(options?: DeadlineOptions): Promise<ProcessStatus> {
    if (options === undefined) return this.#done;
    let checked: DeadlineOptions;
    try {
      checked = validateOptions<DeadlineOptions>("wait", options, DEADLINE_RULES);
    } catch (error) {
      return Promise.reject(error);
    }
    return withDeadline(this.#done, checked, "wait", `pid ${this.pid}`);
  }

  /**
   * The exit status if the child has exited, without waiting (XPIO's
   * `try_wait`).
   *
   * @returns The status, or `undefined` while it runs.
   *
   * @example
   * ```ts
   * import { spawn } from "@netkit/netkit/process";
   *
   * await using child = await spawn(["sleep", "10"]);
   * console.log(child.tryWait()); // undefined
   * ```
   */
  tryWait(): ProcessStatus | undefined {
    return this.#status;
  }

  /**
   * Kills the child if it runs (`SIGKILL`), reaps it, stops the pumps and
   * closes its pipes. Calling it again is harmless.
   *
   * @example
   * ```ts
   * import { spawn } from "@netkit/netkit/process";
   *
   * const child = await spawn(["sleep", "10"], { files: { 1: "piped" } });
   * await child.close();
   * console.log(child.tryWait()); // { signaled: "SIGKILL" }
   * ```
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#status === undefined) this.kill("SIGKILL");
    await this.#child.status;
    if (this.#pumps !== null) {
      this.#pumps.close();
      await this.#pumps.done;
    }
    for (const stream of Object.values(this.#stdio)) stream?.close();
  }

  /** Same as {@linkcode Process.close} (for `await using`). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Readiness for `select`/`TaskQueue.whenExit`: readable once the child exited. */
  [pollable](): Pollable {
    const exited = () => this.#status !== undefined;
    const closed = () => this.#closed;
    const wait = (): Promise<void> => this.#child.status.then(() => {});
    return {
      get closed() {
        return closed();
      },
      pollRead: exited,
      waitRead: wait,
      pollWrite: () => false,
      waitWrite: wait,
    };
  }
}
