/**
 * The default scheduler (system clock) and its methods as plain functions,
 * as sock exports them.
 *
 * @module
 */

import type { DeadlineOptions } from "../common/deadline.ts";
import { Scheduler } from "./scheduler.ts";
import type { SelectResult, SelectTarget } from "./select.ts";
import type { SleepJob } from "./sleep_job.ts";
import type { Thread } from "./thread.ts";
import type { Timer, TimerCallback } from "./timer.ts";

/**
 * The scheduler the exported functions use (system clock; errors of timer
 * callbacks and unawaited threads go to `console.error`).
 *
 * @example
 * ```ts
 * import { defaultScheduler, sleep } from "@netkit/netkit/scheduler";
 *
 * await sleep(1);
 * console.log(defaultScheduler.pendingTimers); // 0
 * ```
 */
export const defaultScheduler: Scheduler = new Scheduler();

/**
 * The default scheduler's clock in milliseconds (`performance.now()`).
 *
 * @returns The time.
 *
 * @example
 * ```ts
 * import { clock } from "@netkit/netkit/scheduler";
 *
 * const t = clock();
 * console.log(clock() >= t); // true
 * ```
 */
export function clock(): number {
  return defaultScheduler.clock();
}

/**
 * Sleeps for `ms` milliseconds ({@linkcode Scheduler.sleep}).
 *
 * @param ms Milliseconds (≥ 0; `Infinity` until aborted).
 * @param options `{ timeout, signal }`.
 * @returns Resolves when the time has passed.
 * @throws {NetError} `invalid_argument`, `aborted`, `timeout`.
 *
 * @example Abort a long sleep
 * ```ts
 * import { sleep } from "@netkit/netkit/scheduler";
 *
 * const controller = new AbortController();
 * const sleeping = sleep(60_000, { signal: controller.signal });
 * controller.abort();
 * console.log(await sleeping.catch((error) => error.code)); // aborted
 * ```
 */
export function sleep(ms: number, options?: DeadlineOptions): Promise<void> {
  return defaultScheduler.sleep(ms, options);
}

/**
 * Sleeps until `clock()` reads `t` ({@linkcode Scheduler.sleepUntil}).
 *
 * @param t A clock time in milliseconds.
 * @param options `{ timeout, signal }`.
 * @returns Resolves at `t`.
 * @throws {NetError} `invalid_argument`, `aborted`, `timeout`.
 *
 * @example
 * ```ts
 * import { clock, sleepUntil } from "@netkit/netkit/scheduler";
 *
 * const until = clock() + 2;
 * await sleepUntil(until);
 * console.log(clock() >= until); // true
 * ```
 */
export function sleepUntil(t: number, options?: DeadlineOptions): Promise<void> {
  return defaultScheduler.sleepUntil(t, options);
}

/**
 * Makes a sleep job ({@linkcode SleepJob}).
 *
 * @returns The job.
 *
 * @example
 * ```ts
 * import { sleepJob } from "@netkit/netkit/scheduler";
 *
 * const job = sleepJob<[number]>();
 * job.wakeup(7); // nobody sleeps yet: kept for the next sleep
 * console.log(await job.sleep(60_000)); // [ 7 ]
 * ```
 */
export function sleepJob<T extends unknown[] = unknown[]>(): SleepJob<T> {
  return defaultScheduler.sleepJob<T>();
}

/**
 * Calls `fn` at clock time `t` ({@linkcode Scheduler.runAt}).
 *
 * @param t A clock time in milliseconds.
 * @param fn The callback.
 * @returns The timer.
 * @throws {NetError} `invalid_argument`.
 *
 * @example
 * ```ts
 * import { clock, runAt } from "@netkit/netkit/scheduler";
 *
 * await new Promise<void>((resolve) => runAt(clock() + 1, () => resolve()));
 * ```
 */
export function runAt(t: number, fn: TimerCallback): Timer {
  return defaultScheduler.runAt(t, fn);
}

/**
 * Calls `fn` after `ms` milliseconds ({@linkcode Scheduler.runAfter}).
 *
 * @param ms Milliseconds.
 * @param fn The callback.
 * @returns The timer.
 * @throws {NetError} `invalid_argument`.
 *
 * @example
 * ```ts
 * import { runAfter } from "@netkit/netkit/scheduler";
 *
 * using timer = runAfter(1000, () => console.log("never: disposed first"));
 * console.log(timer.active); // true
 * ```
 */
export function runAfter(ms: number, fn: TimerCallback): Timer {
  return defaultScheduler.runAfter(ms, fn);
}

/**
 * Calls `fn` every `ms` milliseconds without drift ({@linkcode Scheduler.runEvery}).
 *
 * @param ms The period.
 * @param fn The callback; returning `false` stops the timer.
 * @returns The timer.
 * @throws {NetError} `invalid_argument`.
 *
 * @example
 * ```ts
 * import { runEvery } from "@netkit/netkit/scheduler";
 *
 * let ticks = 0;
 * await new Promise<void>((resolve) =>
 *   runEvery(1, () => {
 *     if (++ticks < 3) return;
 *     resolve();
 *     return false;
 *   })
 * );
 * console.log(ticks); // 3
 * ```
 */
export function runEvery(ms: number, fn: TimerCallback): Timer {
  return defaultScheduler.runEvery(ms, fn);
}

/**
 * Creates and starts a thread ({@linkcode Scheduler.thread}).
 *
 * @param fn The body.
 * @param args Its arguments.
 * @returns The thread.
 * @throws {NetError} `invalid_argument`.
 *
 * @example
 * ```ts
 * import { thread } from "@netkit/netkit/scheduler";
 *
 * console.log(await thread((x: number) => x + 1, 1).done); // 2
 * ```
 */
export function thread<A extends unknown[], T>(
  fn: (...args: A) => T | Promise<T>,
  ...args: A
): Thread<T> {
  return defaultScheduler.thread(fn, ...args);
}

/**
 * Creates a thread without starting it ({@linkcode Scheduler.newThread}).
 *
 * @param fn The body.
 * @param name Its name.
 * @returns The thread.
 * @throws {NetError} `invalid_argument`.
 *
 * @example
 * ```ts
 * import { newThread, resume } from "@netkit/netkit/scheduler";
 *
 * const later = newThread(() => "ran", "later");
 * console.log(later.state); // new
 * resume(later);
 * console.log(await later.done); // ran
 * ```
 */
export function newThread<A extends unknown[], T>(
  fn: (...args: A) => T | Promise<T>,
  name?: string,
): Thread<T> {
  return defaultScheduler.newThread(fn, name);
}

/**
 * Starts a new thread or wakes a suspended one ({@linkcode Scheduler.resume}).
 *
 * @param thread The thread.
 * @param args Arguments or `suspend`'s result.
 * @throws {NetError} `invalid_argument`.
 *
 * @example
 * ```ts
 * import { newThread, resume } from "@netkit/netkit/scheduler";
 *
 * const adder = newThread((a: number, b: number) => a + b);
 * resume(adder, 1, 2);
 * console.log(await adder.done); // 3
 * ```
 */
export function resume(thread: Thread, ...args: unknown[]): void {
  defaultScheduler.resume(thread, ...args);
}

/**
 * Resumes `thread` with `values` and suspends the caller until it is resumed
 * or transferred to ({@linkcode Scheduler.transfer}).
 *
 * @param thread Another new or suspended thread.
 * @param values What `thread` starts with, or what its `suspend` returns.
 * @returns The values the caller is resumed with.
 * @throws {NetError} `invalid_argument` outside a thread or for a thread
 *   that cannot be resumed.
 *
 * @example
 * ```ts
 * import { newThread, resume, transfer } from "@netkit/netkit/scheduler";
 *
 * const doubler = newThread(async (n: number) => {
 *   await transfer(caller, n * 2); // stays suspended: nobody transfers back
 * });
 * const caller = newThread(async () => (await transfer(doubler, 21))[0]);
 * resume(caller);
 * console.log(await caller.done); // 42
 * ```
 */
export function transfer(thread: Thread, ...values: unknown[]): Promise<unknown[]> {
  return defaultScheduler.transfer(thread, ...values);
}

/**
 * Resolves after the next batch of completions netkit dispatches, with how
 * many there were, or 0 after `timeout` ({@linkcode Scheduler.poll}).
 *
 * @param options `{ timeout, signal }`.
 * @returns How many completions the batch had.
 * @throws {NetError} `aborted`, `invalid_argument`.
 *
 * @example
 * ```ts
 * import { poll, runAfter } from "@netkit/netkit/scheduler";
 *
 * runAfter(1, () => {});
 * console.log(await poll({ timeout: 1000 })); // 1
 * ```
 */
export function poll(options?: DeadlineOptions): Promise<number> {
  return defaultScheduler.poll(options);
}

/**
 * Suspends the current thread until resumed ({@linkcode Scheduler.suspend}).
 *
 * @param options `{ timeout, signal }`.
 * @returns The values passed to `resume`.
 * @throws {NetError} `invalid_argument` outside a thread; `aborted`, `timeout`.
 *
 * @example
 * ```ts
 * import { resume, suspend, thread } from "@netkit/netkit/scheduler";
 *
 * const parked = thread(async () => (await suspend())[0]);
 * resume(parked, "go");
 * console.log(await parked.done); // go
 * ```
 */
export function suspend(options?: DeadlineOptions): Promise<unknown[]> {
  return defaultScheduler.suspend(options);
}

/**
 * The running thread, or `undefined` ({@linkcode Scheduler.currentThread}).
 *
 * @returns The thread.
 *
 * @example
 * ```ts
 * import { currentThread, thread, type Thread } from "@netkit/netkit/scheduler";
 *
 * const t: Thread<boolean> = thread(async (): Promise<boolean> => {
 *   await Promise.resolve();
 *   return currentThread() === t;
 * });
 * console.log(await t.done); // true
 * ```
 */
export function currentThread(): Thread | undefined {
  return defaultScheduler.currentThread();
}

/**
 * Calls `fn` when `thread` finishes ({@linkcode Scheduler.onThreadFinish}).
 *
 * @param thread The thread.
 * @param fn The hook.
 * @throws {NetError} `invalid_argument`.
 *
 * @example
 * ```ts
 * import { onThreadFinish, thread } from "@netkit/netkit/scheduler";
 *
 * const t = thread(() => 1);
 * onThreadFinish(t, () => console.log("finished")); // finished
 * ```
 */
export function onThreadFinish<T>(thread: Thread<T>, fn: (thread: Thread<T>) => unknown): void {
  defaultScheduler.onThreadFinish(thread, fn);
}

/**
 * A thread's own `Map` ({@linkcode Scheduler.threadEnv}).
 *
 * @param thread The thread (default: the current one).
 * @returns Its environment.
 * @throws {NetError} `invalid_argument` outside threads without a thread.
 *
 * @example
 * ```ts
 * import { thread, threadEnv } from "@netkit/netkit/scheduler";
 *
 * const t = thread(() => threadEnv().set("k", 1).size);
 * console.log(await t.done, threadEnv(t).get("k")); // 1 1
 * ```
 */
export function threadEnv(thread?: Thread): Map<unknown, unknown> {
  return defaultScheduler.threadEnv(thread);
}

/**
 * Runs `fn` and waits for every thread under it ({@linkcode Scheduler.run}).
 *
 * @param fn The body.
 * @param args Its arguments.
 * @returns `fn`'s result.
 * @throws {unknown} The first error of a thread under it; `aborted` after `stop()`.
 *
 * @example
 * ```ts
 * import { run, sleep, thread } from "@netkit/netkit/scheduler";
 *
 * let finished = 0;
 * await run(() => {
 *   for (let i = 0; i < 3; i++) thread(async () => void (await sleep(1), finished++));
 * });
 * console.log(finished); // 3
 * ```
 */
export function run<A extends unknown[], T>(
  fn: (...args: A) => T | Promise<T>,
  ...args: A
): Promise<T> {
  return defaultScheduler.run(fn, ...args);
}

/**
 * Cancels every unfinished thread of the default scheduler ({@linkcode Scheduler.stop}).
 *
 * @param reason The `cause` of the `aborted` errors.
 * @returns How many threads were cancelled.
 *
 * @example
 * ```ts
 * import { run, sleep, stop } from "@netkit/netkit/scheduler";
 *
 * const forever = run(() => sleep(Infinity));
 * stop();
 * console.log(await forever.catch((error) => error.code)); // aborted
 * ```
 */
export function stop(reason?: unknown): number {
  return defaultScheduler.stop(reason);
}

/**
 * Waits until some objects are ready ({@linkcode Scheduler.select}).
 *
 * @param read Objects to watch for reading.
 * @param write Objects to watch for writing.
 * @param options `{ timeout, signal }`; a timeout gives empty lists.
 * @returns The ready objects.
 * @throws {NetError} `invalid_argument`, `aborted`.
 *
 * @example
 * ```ts
 * import { select } from "@netkit/netkit/scheduler";
 * import { socketpair } from "@netkit/netkit/process";
 *
 * const [a, b] = await socketpair();
 * const { write } = await select([], [a]);
 * console.log(write[0] === a); // true
 * a.close();
 * b.close();
 * ```
 */
export function select<R extends SelectTarget, W extends SelectTarget = never>(
  read: readonly R[] | undefined,
  write?: readonly W[],
  options?: DeadlineOptions,
): Promise<SelectResult<R, W>> {
  return defaultScheduler.select(read, write, options);
}
