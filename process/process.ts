import type { DeadlineOptions } from "../common/deadline.ts";
import { withDeadline } from "../common/deadline.ts";
import { NetError, toNetError } from "../common/errors.ts";
import { DEADLINE_RULES, invalidArgument, validateOptions } from "../common/options.ts";
import { type Pollable, pollable } from "../common/readiness.ts";
import type { Stream } from "../common/stream.ts";

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

/** The engine-specific half of a {@linkcode Process} (made by `spawn`). */
export interface ChildHandle {
  /** The child's process id. */
  readonly pid: number;
  /** Settles once, when the child has exited and been reaped. */
  readonly status: Promise<ProcessStatus>;
  /** Sends a signal; may throw once the child is gone. */
  kill(signal: Deno.Signal | number): void;
}

/** The pumps feeding streams handed to the child, and how to stop them. */
export interface PumpSet {
  /** Settles when every pump has finished. */
  readonly done: Promise<unknown>;
  /** Stops the pumps that feed the child (it can read no more). */
  stopInput(): void;
  /** Stops every pump and closes their pipes. */
  close(): void;
}

const SIGNALS: ReadonlySet<string> = new Set([
  "SIGABRT",
  "SIGALRM",
  "SIGBUS",
  "SIGCHLD",
  "SIGCONT",
  "SIGFPE",
  "SIGHUP",
  "SIGILL",
  "SIGINT",
  "SIGIO",
  "SIGKILL",
  "SIGPIPE",
  "SIGPOLL",
  "SIGPROF",
  "SIGPWR",
  "SIGQUIT",
  "SIGSEGV",
  "SIGSTKFLT",
  "SIGSTOP",
  "SIGSYS",
  "SIGTERM",
  "SIGTRAP",
  "SIGTSTP",
  "SIGTTIN",
  "SIGTTOU",
  "SIGURG",
  "SIGUSR1",
  "SIGUSR2",
  "SIGVTALRM",
  "SIGWINCH",
  "SIGXCPU",
  "SIGXFSZ",
]);

const KILL_RULES = { group: { type: "boolean" } } as const;

/** Throws `invalid_argument` unless `signal` is a signal name or number. */
export function checkSignal(op: string, signal: unknown): Deno.Signal | number {
  if (typeof signal === "string" && SIGNALS.has(signal)) return signal as Deno.Signal;
  if (typeof signal === "number" && Number.isInteger(signal) && signal >= 1 && signal <= 64) {
    return signal;
  }
  throw invalidArgument(op, "signal", 'a signal name such as "SIGTERM", or 1..64', signal);
}

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
  #stdio: Readonly<Record<number, Stream>>;
  #pumps: PumpSet | null;
  #pgroup: boolean;
  #status: ProcessStatus | undefined;
  #done: Promise<ProcessStatus>;
  #closed = false;

  /**
   * Wraps a started child. `spawn` makes processes; user code does not call
   * this.
   *
   * @param child The engine's handle.
   * @param stdio The `"piped"` fds, as streams.
   * @param pumps The pumps of handed-over streams, if any.
   * @param pgroup Whether the child leads its own process group.
   */
  constructor(
    child: ChildHandle,
    stdio: Record<number, Stream>,
    pumps: PumpSet | null,
    pgroup: boolean,
  ) {
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

  /** Child fd → stream, for every fd spawned as `"piped"`. */
  get stdio(): Readonly<Record<number, Stream>> {
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
    for (const stream of Object.values(this.#stdio)) stream.close();
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
