/**
 * Threads: async functions the scheduler tracks, names, cancels and groups
 * (sock's coroutine threads).
 *
 * @module
 */

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
