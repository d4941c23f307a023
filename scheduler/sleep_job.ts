/**
 * Sleep jobs: sleeps that another thread can end early (sock's `sleep_job`).
 *
 * @module
 */

import type { DeadlineOptions } from "../common/deadline.ts";
import { invalidArgument } from "../common/_options.ts";
import { coreOf, type SchedulerCore } from "./_core.ts";
import type { Waiter, WaiterOwner } from "./_waiter.ts";
import type { Scheduler } from "./scheduler.ts";

/**
 * An interruptible sleep (sock's `sleep_job`): one thread sleeps with
 * `sleep`/`sleepUntil`, another ends the sleep early with
 * `wakeup(...values)`.
 *
 * - A sleep woken early resolves with the wakeup's values (an array, `[]`
 *   for a wakeup without values); one that ran out resolves `undefined`.
 * - `wakeup` wakes every sleep pending on the job at that moment.
 * - A wakeup while nobody sleeps is **kept, not lost**: the next sleep
 *   returns its values at once. Only one is kept: a later wakeup replaces
 *   an unconsumed earlier one (the latest values win).
 * - `sleep(Infinity)` sleeps until woken (or aborted).
 * - `{ signal }` aborts a sleep with `aborted`; `{ timeout }` shorter than
 *   the sleep rejects it with `timeout`. Sleeps in a cancelled thread
 *   reject `aborted`.
 *
 * @example
 * ```ts
 * import { sleepJob, thread } from "@netkit/netkit/scheduler";
 *
 * const job = sleepJob<[string]>();
 * const sleeper = thread(() => job.sleep(10_000));
 * job.wakeup("hello");
 * console.log(await sleeper.done); // [ "hello" ]
 * ```
 */
export class SleepJob<T extends unknown[] = unknown[]> {
  #core: SchedulerCore;
  #sleepers = new Set<Waiter<T | undefined>>();
  #kept: T | undefined = undefined;
  #owner: WaiterOwner = {
    forget: (waiter) => void this.#sleepers.delete(waiter as Waiter<T | undefined>),
  };

  /**
   * Makes a sleep job; `sleepJob()` is the usual way.
   *
   * @param scheduler The scheduler whose clock the sleeps use.
   * @throws {NetError} `invalid_argument` for something else.
   *
   * @example
   * ```ts
   * import { ManualClock, Scheduler, SleepJob } from "@netkit/netkit/scheduler";
   *
   * const clock = new ManualClock();
   * const job = new SleepJob(new Scheduler({ clock }));
   * const slept = job.sleep(10);
   * clock.advance(10);
   * console.log(await slept); // undefined
   * ```
   */
  constructor(scheduler: Scheduler) {
    const core = coreOf(scheduler);
    if (core === undefined) {
      throw invalidArgument("SleepJob", "scheduler", "a Scheduler", scheduler);
    }
    this.#core = core;
  }

  /**
   * True while a sleep is pending on the job.
   *
   * @example
   * ```ts
   * import { sleepJob } from "@netkit/netkit/scheduler";
   *
   * const job = sleepJob();
   * const sleeping = job.sleep(Infinity);
   * console.log(job.sleeping); // true
   * job.wakeup();
   * await sleeping;
   * console.log(job.sleeping); // false
   * ```
   */
  get sleeping(): boolean {
    return this.#sleepers.size > 0;
  }

  /**
   * Sleeps for `ms` milliseconds unless woken first.
   *
   * @param ms Milliseconds (≥ 0; `Infinity`: until woken).
   * @param options `{ timeout, signal }`.
   * @returns The wakeup's values, or `undefined` when the time ran out.
   * @throws {NetError} `invalid_argument`, `aborted`, `timeout`.
   *
   * @example
   * ```ts
   * import { sleepJob } from "@netkit/netkit/scheduler";
   *
   * const job = sleepJob();
   * console.log(await job.sleep(1)); // undefined
   * ```
   */
  sleep(ms: number, options?: DeadlineOptions): Promise<T | undefined> {
    try {
      return this.#sleep("sleep", this.#core.dueIn("sleep", ms), options);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Sleeps until clock time `t` unless woken first.
   *
   * @param t A time of the scheduler's `clock()`, in milliseconds.
   * @param options `{ timeout, signal }`.
   * @returns The wakeup's values, or `undefined` when the time came.
   * @throws {NetError} `invalid_argument`, `aborted`, `timeout`.
   *
   * @example
   * ```ts
   * import { clock, sleepJob } from "@netkit/netkit/scheduler";
   *
   * const job = sleepJob<[number]>();
   * job.wakeup(42);
   * console.log(await job.sleepUntil(clock() + 60_000)); // [ 42 ]
   * ```
   */
  sleepUntil(t: number, options?: DeadlineOptions): Promise<T | undefined> {
    try {
      return this.#sleep("sleepUntil", this.#core.dueAt("sleepUntil", t), options);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #sleep(op: string, due: number, options: DeadlineOptions | undefined): Promise<T | undefined> {
    const waiter = this.#core.wait<T | undefined>(op, due, options, undefined, this.#owner);
    if (!waiter.settled && this.#kept !== undefined) {
      const values = this.#kept;
      this.#kept = undefined;
      waiter.resolve(values);
    }
    if (!waiter.settled) this.#sleepers.add(waiter);
    return waiter.promise;
  }

  /**
   * Wakes the pending sleeps with `values`; with none pending, keeps the
   * values for the next sleep.
   *
   * @param values What the sleep resolves with.
   * @returns True when a sleep was woken, false when the wakeup was kept.
   *
   * @example
   * ```ts
   * import { sleepJob } from "@netkit/netkit/scheduler";
   *
   * const job = sleepJob<[string, number]>();
   * const pending = job.sleep(60_000);
   * console.log(job.wakeup("ready", 1)); // true
   * console.log(await pending); // [ "ready", 1 ]
   * ```
   */
  wakeup(...values: T): boolean {
    if (this.#sleepers.size === 0) {
      this.#kept = values;
      return false;
    }
    for (const sleeper of [...this.#sleepers]) sleeper.resolve(values);
    return true;
  }
}
