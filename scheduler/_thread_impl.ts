/**
 * The machinery behind {@linkcode Thread}: the thread objects, the groups
 * that `run` waits for, and the async context that knows the current
 * thread.
 *
 * @module
 */

import { AsyncLocalStorage } from "node:async_hooks";
import { NetError } from "../common/errors.ts";
import type { Thread, ThreadState } from "./thread.ts";
import type { Waiter, WaiterOwner } from "./_waiter.ts";

/** The scheduler side of a thread. */
export interface ThreadHost {
  /** Reports a failure nobody else will see. */
  report(error: unknown, source: unknown): void;
  /** Unfinished threads, for `stop()`. */
  readonly live: Set<ThreadImpl<unknown>>;
}

/**
 * The threads started under one `run`: it completes when all of them (and
 * nested runs) have finished; the first failure is kept.
 */
export class Group {
  closed = false;
  failed = false;
  error: unknown = undefined;
  readonly finished: Promise<void>;
  #pending = 0;
  #parent: Group | undefined;
  #resolve!: () => void;

  constructor(parent: Group | undefined) {
    this.#parent = parent;
    parent?.enter();
    this.finished = new Promise<void>((resolve) => {
      this.#resolve = resolve;
    });
  }

  enter(): void {
    this.#pending++;
  }

  leave(): void {
    if (--this.#pending > 0) return;
    this.closed = true;
    this.#resolve();
    this.#parent?.leave();
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
  #waiters: Set<Waiter<unknown>> | undefined = undefined;
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
    host.live.add(this as ThreadImpl<unknown>);
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
    else if (!this.#observed) this.host.report(error, this);
    this.#finish("failed", error);
  };

  #finish(state: ThreadState, value: unknown): void {
    const wasRunning = this.#state === "running";
    this.#state = state;
    this.#value = value;
    this.host.live.delete(this as ThreadImpl<unknown>);
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
        result.catch((error) => this.host.report(error, this));
      }
    } catch (error) {
      this.host.report(error, this);
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
    if (this.#waiters !== undefined) {
      for (const waiter of [...this.#waiters]) waiter.reject(error);
    }
    return true;
  }

  /** The error a wait started in this cancelled thread fails with. */
  get cancelError(): unknown {
    return this.#state === "cancelled" ? this.#value : undefined;
  }

  /** Tracks a wait so that cancelling the thread rejects it. */
  track(waiter: Waiter<unknown>): void {
    (this.#waiters ??= new Set()).add(waiter);
    waiter.addOwner(this);
  }

  forget(waiter: Waiter<unknown>): void {
    this.#waiters?.delete(waiter);
    if (this.suspended === waiter) this.suspended = undefined;
  }
}
