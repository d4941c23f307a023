/**
 * Threads: async functions the scheduler tracks, names, cancels and groups
 * (sock's coroutine threads).
 *
 * @module
 */

import { AsyncLocalStorage } from "node:async_hooks";
import { NetError } from "../common/errors.ts";
import type { Waiter, WaiterOwner } from "./_waiter.ts";

/** Where a thread is in its life. */
export type ThreadState = "new" | "running" | "done" | "failed" | "cancelled";

/**
 * A thread (sock's coroutine thread): an async function that the scheduler
 * starts, names, groups under `run`, and can cancel.
 *
 * JavaScript cannot stop running code from outside, so `cancel()` finishes
 * the thread at once as far as everyone else can tell — its finish hooks
 * run, `done` rejects `aborted`, `run` stops waiting for it — and its body
 * is told: every pending or later scheduler wait in it (`sleep`,
 * `sleepUntil`, sleep-job sleeps, `suspend`) rejects `aborted`, and
 * {@linkcode Thread.signal} aborts (pass it to I/O calls as `{ signal }`).
 * What the body does after that is ignored.
 *
 * @example
 * ```ts
 * import { thread } from "@netkit/netkit/scheduler";
 *
 * const worker = thread(async (a: number, b: number) => a + b, 2, 3);
 * console.log(worker.name.startsWith("thread-"), await worker.done); // true 5
 * ```
 */
export interface Thread<T = unknown> {
  /** Its name (`newThread`'s argument, or `thread-<n>`). */
  readonly name: string;
  /** `"new"` until resumed, `"running"`, then `"done"`, `"failed"` or `"cancelled"`. */
  readonly state: ThreadState;
  /**
   * Resolves with the function's result; rejects with what it threw, or
   * with `aborted` when cancelled.
   */
  readonly done: Promise<T>;
  /** Aborts (with the `aborted` NetError as reason) when the thread is cancelled. */
  readonly signal: AbortSignal;
  /**
   * Cancels the thread (see {@linkcode Thread}). Harmless once finished.
   *
   * @param reason Kept as the `cause` of the `aborted` error.
   * @returns True when it was still unfinished.
   */
  cancel(reason?: unknown): boolean;
}

/** The scheduler side of a thread. */
export interface ThreadHost {
  /** Reports a failure nobody else will see. */
  _report(error: unknown, source: unknown): void;
  /** Unfinished threads, for `stop()`. */
  readonly _live: Set<ThreadImpl<unknown>>;
}

/**
 * The threads started under one `run`: it completes when all of them (and
 * nested runs) have finished; the first failure is kept.
 */
export class Group {
  pending = 0;
  closed = false;
  failed = false;
  error: unknown = undefined;
  readonly parent: Group | undefined;
  readonly finished: Promise<void>;
  #resolve!: () => void;

  constructor(parent: Group | undefined) {
    this.parent = parent;
    parent?.enter();
    this.finished = new Promise<void>((resolve) => {
      this.#resolve = resolve;
    });
  }

  enter(): void {
    this.pending++;
  }

  leave(): void {
    if (--this.pending > 0) return;
    this.closed = true;
    this.#resolve();
    this.parent?.leave();
  }

  fail(error: unknown): void {
    if (this.failed) return;
    this.failed = true;
    this.error = error;
  }
}

/** The thread whose code is running now, kept across `await`. */
export const threadContext: AsyncLocalStorage<ThreadImpl<unknown>> = new AsyncLocalStorage<
  ThreadImpl<unknown>
>();

let threadCount = 0;

type Settled<T> = { resolve(value: T): void; reject(error: unknown): void; promise: Promise<T> };

/** The implementation behind {@linkcode Thread}. */
export class ThreadImpl<T> implements Thread<T>, WaiterOwner {
  readonly name: string;
  readonly host: ThreadHost;
  group: Group | undefined;
  env: Map<unknown, unknown> | undefined;
  hooks: ((thread: Thread<T>) => unknown)[] | undefined = undefined;
  waiters: Set<Waiter<unknown>> | undefined = undefined;
  suspended: Waiter<unknown[]> | undefined = undefined;
  #fn: (...args: never[]) => T | Promise<T>;
  #state: ThreadState = "new";
  #value: unknown = undefined;
  #deferred: Settled<T> | undefined = undefined;
  #observed = false;
  #controller: AbortController | undefined = undefined;

  constructor(
    host: ThreadHost,
    fn: (...args: never[]) => T | Promise<T>,
    name: string | undefined,
    parent: ThreadImpl<unknown> | undefined,
    group: Group | undefined,
  ) {
    this.host = host;
    this.#fn = fn;
    this.name = name ?? `thread-${++threadCount}`;
    this.group = group;
    if (parent?.env !== undefined) this.env = new Map(parent.env);
    host._live.add(this as ThreadImpl<unknown>);
  }

  get state(): ThreadState {
    return this.#state;
  }

  get finished(): boolean {
    return this.#state !== "new" && this.#state !== "running";
  }

  /** The result (after `done`), or the error (after `failed`/`cancelled`). */
  get value(): unknown {
    return this.#value;
  }

  get done(): Promise<T> {
    this.#observed = true;
    if (this.#deferred === undefined) {
      if (this.#state === "done") {
        return Promise.resolve(this.#value as T);
      }
      if (this.finished) return Promise.reject(this.#value);
      let resolve!: (value: T) => void;
      let reject!: (error: unknown) => void;
      const promise = new Promise<T>((ok, fail) => {
        resolve = ok;
        reject = fail;
      });
      this.#deferred = { promise, resolve, reject };
    }
    return this.#deferred.promise;
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#state === "cancelled") this.#controller.abort(this.#value);
    }
    return this.#controller.signal;
  }

  /** Starts the body with `args` inside this thread's context. */
  start(args: unknown[]): void {
    this.#state = "running";
    if (this.group !== undefined) {
      if (this.group.closed) this.group = undefined;
      else this.group.enter();
    }
    let result: T | Promise<T>;
    try {
      result = threadContext.run(
        this as ThreadImpl<unknown>,
        this.#fn as never,
        ...args as never[],
      );
    } catch (error) {
      this.#failed(error);
      return;
    }
    if (result instanceof Promise) result.then(this.#succeeded, this.#failed);
    else if (typeof (result as PromiseLike<T> | undefined)?.then === "function") {
      Promise.resolve(result).then(this.#succeeded, this.#failed);
    } else this.#succeeded(result as T);
  }

  #succeeded = (value: T): void => {
    if (this.#state !== "running") return;
    this.#finish("done", value);
  };

  #failed = (error: unknown): void => {
    if (this.#state !== "running") return;
    if (this.group !== undefined) this.group.fail(error);
    else if (!this.#observed) this.host._report(error, this);
    this.#finish("failed", error);
  };

  #finish(state: ThreadState, value: unknown): void {
    const wasRunning = this.#state === "running";
    this.#state = state;
    this.#value = value;
    this.host._live.delete(this as ThreadImpl<unknown>);
    const hooks = this.hooks;
    this.hooks = undefined;
    if (hooks !== undefined) {
      for (const hook of hooks) this.runHook(hook);
    }
    const deferred = this.#deferred;
    if (deferred !== undefined) {
      if (state === "done") deferred.resolve(value as T);
      else deferred.reject(value);
    }
    if (wasRunning && this.group !== undefined) this.group.leave();
  }

  /** Runs one finish hook; a hook that throws is reported, not fatal. */
  runHook(hook: (thread: Thread<T>) => unknown): void {
    try {
      const result = hook(this);
      if (result instanceof Promise) {
        result.catch((error) => this.host._report(error, this));
      }
    } catch (error) {
      this.host._report(error, this);
    }
  }

  cancel(reason?: unknown): boolean {
    if (this.finished) return false;
    const error = new NetError("aborted", `thread ${this.name} was cancelled`, {
      op: "thread",
      cause: reason,
    });
    this.#finish("cancelled", error);
    this.#controller?.abort(error);
    if (this.waiters !== undefined) {
      for (const waiter of [...this.waiters]) waiter.reject(error);
    }
    return true;
  }

  /** The error a wait started in this cancelled thread fails with. */
  get cancelError(): unknown {
    return this.#state === "cancelled" ? this.#value : undefined;
  }

  /** Tracks a wait so that cancelling the thread rejects it. */
  track(waiter: Waiter<unknown>): void {
    (this.waiters ??= new Set()).add(waiter);
    waiter.owners.push(this);
  }

  _forget(waiter: Waiter<unknown>): void {
    this.waiters?.delete(waiter);
    if (this.suspended === waiter) this.suspended = undefined;
  }
}
