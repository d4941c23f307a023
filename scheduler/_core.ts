/**
 * The scheduler's machinery, kept out of its public surface: the timer
 * heap behind one host alarm, waits (sleeps, sleep jobs, suspend) and the
 * set of unfinished threads.
 *
 * @module
 */

import { abortedError, type DeadlineOptions, timeoutError } from "../common/deadline.ts";
import { DEADLINE_RULES, invalidArgument, validateOptions } from "../common/options.ts";
import type { Clock } from "./clock.ts";
import { Waiter, type WaiterOwner } from "./_waiter.ts";
import { threadContext, type ThreadHost, type ThreadImpl } from "./thread.ts";
import type { Thread } from "./thread.ts";
import { type Timer, type TimerCallback, TimerEntry, TimerHeap, type TimerHost } from "./timer.ts";

/** The store meaning "no thread" (getStore() then answers undefined). */
const NO_THREAD = undefined as unknown as ThreadImpl<unknown>;

/** Where scheduler errors go. */
export type ErrorHandler = (error: unknown, source: Timer | Thread) => void;

/** The machinery behind one `Scheduler`. */
export class SchedulerCore implements TimerHost, ThreadHost {
  #clock: Clock;
  #onError: ErrorHandler;
  #heap = new TimerHeap();
  #seq = 0;
  #alarm: unknown = undefined;
  #alarmAt = Infinity;
  #firing = false;
  /** Unfinished threads (for `stop()`). */
  readonly _live: Set<ThreadImpl<unknown>> = new Set();

  constructor(clock: Clock, onError: ErrorHandler) {
    this.#clock = clock;
    this.#onError = onError;
  }

  /** The clock's time. */
  now(): number {
    return this.#clock.now();
  }

  /** Queued timers and timed waits. */
  get pending(): number {
    return this.#heap.size;
  }

  /** Queues a new timer due at `due` (clamped to now). */
  schedule(timer: TimerEntry, due: number): TimerEntry {
    return this.#schedule(timer, due);
  }

  #schedule(timer: TimerEntry, due: number): TimerEntry {
    const now = this.#clock.now();
    timer._due = due > now ? due : now;
    timer._seq = this.#seq++;
    this.#heap.push(timer);
    if (!this.#firing && timer._due < this.#alarmAt) this.#arm(timer._due);
    return timer;
  }

  #arm(at: number): void {
    if (this.#alarm !== undefined) this.#clock.clearAlarm(this.#alarm);
    this.#alarmAt = at;
    // Armed outside any thread, so that the host timer's async context (which
    // promise continuations in callbacks inherit) is no thread's.
    this.#alarm = threadContext.run(NO_THREAD, this.#setAlarm, at);
  }

  #disarm(): void {
    if (this.#alarm === undefined) return;
    this.#clock.clearAlarm(this.#alarm);
    this.#alarm = undefined;
    this.#alarmAt = Infinity;
  }

  /** Takes a timer out of the queue (from `Timer.cancel`). */
  _remove(timer: TimerEntry): void {
    this.#heap.remove(timer);
    if (this.#heap.size === 0 && !this.#firing) this.#disarm();
  }

  #setAlarm = (at: number): unknown => this.#clock.setAlarm(at, this.#onAlarm);

  #onAlarm = (): void => {
    this.#alarm = undefined;
    this.#alarmAt = Infinity;
    threadContext.run(NO_THREAD, this.#fireDue);
  };

  #fireDue = (): void => {
    const heap = this.#heap;
    const items = heap.items;
    const now = this.#clock.now();
    const limit = this.#seq;
    this.#firing = true;
    try {
      for (;;) {
        const top = items[0];
        if (top === undefined || top._due > now || top._seq >= limit) break;
        heap.pop();
        this.#fire(top, now);
      }
    } finally {
      this.#firing = false;
    }
    const next = items[0];
    if (next !== undefined) this.#arm(next._due);
  };

  #fire(timer: TimerEntry, now: number): void {
    const period = timer._period;
    if (period === 0) timer._active = false;
    let result: unknown;
    try {
      result = timer._callback(timer);
    } catch (error) {
      this._report(error, timer);
    }
    if (result instanceof Promise) result.catch((error) => this._report(error, timer));
    if (period === 0 || !timer._active) return;
    if (result === false) {
      timer._active = false;
      return;
    }
    // No drift: the n-th tick is due at origin + n × period; ticks missed
    // while late are skipped, not stacked.
    let count = timer._count + 1;
    let due = timer._origin + count * period;
    if (due <= now) {
      count = Math.floor((now - timer._origin) / period) + 1;
      due = timer._origin + count * period;
    }
    timer._count = count;
    timer._due = due;
    timer._seq = this.#seq++;
    this.#heap.push(timer);
  }

  /** Calls `fn` after `ms` (for `select` and `TaskQueue` timeouts). */
  after(ms: number, fn: () => void): Timer {
    return this.#schedule(new TimerEntry(this, fn, 0), this.#clock.now() + ms);
  }

  /** Validates a duration and returns the due time. */
  dueIn(op: string, ms: unknown): number {
    if (typeof ms !== "number" || !(ms >= 0)) {
      throw invalidArgument(op, "ms", "a number ≥ 0 (Infinity allowed)", ms);
    }
    return this.#clock.now() + ms;
  }

  /** Validates a clock time. */
  dueAt(op: string, t: unknown): number {
    if (typeof t !== "number" || Number.isNaN(t) || t === -Infinity) {
      throw invalidArgument(op, "t", "a clock time in milliseconds (Infinity allowed)", t);
    }
    return t;
  }

  /** Starts a wait until `due` that resolves `onTime` then. */
  wait<T>(
    op: string,
    due: number,
    options: DeadlineOptions | undefined,
    onTime: T,
    owner: WaiterOwner | undefined,
  ): Waiter<T> {
    if (options !== undefined) options = validateOptions(op, options, DEADLINE_RULES);
    const waiter = new Waiter<T>();
    const thread = threadContext.getStore();
    if (thread !== undefined && thread.cancelError !== undefined) {
      waiter.reject(thread.cancelError);
      return waiter;
    }
    const signal = options?.signal;
    if (signal?.aborted) {
      waiter.reject(abortedError(op, signal));
      return waiter;
    }
    let timeout = false;
    if (options?.timeout !== undefined) {
      const deadline = this.#clock.now() + options.timeout;
      if (options.timeout === 0 || deadline < due) {
        if (options.timeout === 0) {
          waiter.reject(timeoutError(op, 0));
          return waiter;
        }
        due = deadline;
        timeout = true;
      }
    }
    if (due !== Infinity) {
      const ms = options?.timeout;
      const expire: TimerCallback = timeout
        ? () => waiter.reject(timeoutError(op, ms!))
        : () => waiter.resolve(onTime);
      waiter.timer = this.#schedule(new TimerEntry(this, expire, 0), due);
    }
    if (signal !== undefined) {
      waiter.signal = signal;
      waiter.onAbort = () => waiter.reject(abortedError(op, signal));
      signal.addEventListener("abort", waiter.onAbort, { once: true });
    }
    if (thread !== undefined) thread.track(waiter as Waiter<unknown>);
    if (owner !== undefined) waiter.owners.push(owner);
    return waiter;
  }

  /** Reports an error nobody else will see. */
  _report(error: unknown, source: unknown): void {
    try {
      this.#onError(error, source as Thread);
    } catch (failure) {
      console.error("netkit scheduler: onError threw:", failure);
    }
  }
}

const cores = new WeakMap<object, SchedulerCore>();

/** Links a scheduler to its machinery. */
export function _attachCore(scheduler: object, core: SchedulerCore): void {
  cores.set(scheduler, core);
}

/** The machinery of a scheduler (`undefined` for anything else). */
export function coreOf(scheduler: unknown): SchedulerCore | undefined {
  return typeof scheduler === "object" && scheduler !== null ? cores.get(scheduler) : undefined;
}
