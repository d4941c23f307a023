/**
 * The scheduler's machinery, kept out of its public surface: the timer
 * heap behind one host alarm, waits (sleeps, sleep jobs, suspend) and the
 * set of unfinished threads.
 *
 * @module
 */

import { abortedError, timeoutError } from "../common/_deadline.ts";
import { dispatched } from "../common/_dispatch.ts";
import type { DeadlineOptions } from "../common/deadline.ts";
import { DEADLINE_RULES, invalidArgument, validateOptions } from "../common/_options.ts";
import type { Clock } from "./clock.ts";
import type { Thread } from "./thread.ts";
import type { Timer, TimerCallback } from "./timer.ts";
import { before, DUE_NOW, TimerEntry, TimerHeap, type TimerHost } from "./_timer_heap.ts";
import { threadContext, type ThreadHost, type ThreadImpl } from "./_thread_impl.ts";
import { Waiter, type WaiterOwner, type WaiterTimers } from "./_waiter.ts";

/** The store meaning "no thread" (getStore() then answers undefined). */
const NO_THREAD = undefined as unknown as ThreadImpl<unknown>;

/** Where scheduler errors go. */
export type ErrorHandler = (error: unknown, source: Timer | Thread) => void;

/** The machinery behind one `Scheduler`. */
export class SchedulerCore implements TimerHost, ThreadHost, WaiterTimers {
  #clock: Clock;
  #onError: ErrorHandler;
  #heap = new TimerHeap();
  /**
   * Timers due when scheduled (`runAfter(0)`, a time already past), in
   * scheduling order — which is also (due, seq) order, as the clock never
   * goes back — so queuing and firing one costs no heap sift. Cancelled ones
   * stay (`index` -1) until the head passes them; `#nowDead` counts them.
   */
  #now: (TimerEntry | undefined)[] = [];
  #nowHead = 0;
  #nowDead = 0;
  #seq = 0;
  #alarm: unknown = undefined;
  #alarmAt = Infinity;
  #firing = false;
  /** Unfinished threads (for `stop()`). */
  readonly live: Set<ThreadImpl<unknown>> = new Set();

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
    return this.#heap.size + this.#now.length - this.#nowHead - this.#nowDead;
  }

  /** Queues a one-shot timer due at `due` (clamped to now). */
  at(due: number, callback: TimerCallback): TimerEntry {
    return this.#schedule(new TimerEntry(this, callback, 0), due, this.#clock.now());
  }

  /** Queues a one-shot timer due `ms` from now (one clock reading). */
  after(ms: number, callback: TimerCallback): TimerEntry {
    const now = this.#clock.now();
    return this.#schedule(new TimerEntry(this, callback, 0), now + ms, now);
  }

  /** Queues a timer that fires every `period` from now on. */
  every(period: number, callback: TimerCallback): TimerEntry {
    const timer = new TimerEntry(this, callback, period);
    const now = timer.origin = this.#clock.now();
    timer.count = 1;
    return this.#schedule(timer, now + period, now);
  }

  #schedule(timer: TimerEntry, due: number, now: number): TimerEntry {
    timer.seq = this.#seq++;
    if (due > now) {
      timer.at = due;
      this.#heap.push(timer);
    } else {
      timer.at = now;
      timer.index = DUE_NOW;
      this.#now.push(timer);
    }
    if (!this.#firing && timer.at < this.#alarmAt) this.#arm(timer.at);
    return timer;
  }

  /** The first live timer of the due-now queue (dropping cancelled ones before it). */
  #nowFirst(): TimerEntry | undefined {
    const queue = this.#now;
    for (;;) {
      const head = queue[this.#nowHead];
      if (head === undefined || head.index === DUE_NOW) return head;
      queue[this.#nowHead++] = undefined;
      this.#nowDead--;
    }
  }

  /** The timer that fires next: the due-now queue's first or the heap's top, by (due, seq). */
  #earliest(): TimerEntry | undefined {
    const queued = this.#heap.items[0];
    const first = this.#nowFirst();
    return first !== undefined && (queued === undefined || before(first, queued)) ? first : queued;
  }

  /** Forgets the due-now queue's fired and cancelled slots. */
  #nowCompact(): void {
    const head = this.#nowHead;
    if (head === 0) return;
    if (head === this.#now.length) {
      this.#now.length = 0;
      this.#nowHead = 0;
    } else if (head >= 1024 && head * 2 >= this.#now.length) {
      this.#now.splice(0, head);
      this.#nowHead = 0;
    }
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
  remove(timer: TimerEntry): void {
    if (timer.index === DUE_NOW) {
      timer.index = -1;
      this.#nowDead++;
    } else this.#heap.remove(timer);
    if (this.pending === 0 && !this.#firing) {
      this.#now.length = 0;
      this.#nowHead = 0;
      this.#nowDead = 0;
      this.#disarm();
    }
  }

  #setAlarm = (at: number): unknown => this.#clock.setAlarm(at, this.#onAlarm);

  #onAlarm = (): void => {
    this.#alarm = undefined;
    this.#alarmAt = Infinity;
    threadContext.run(NO_THREAD, this.#fireDue);
  };

  #fireDue = (): void => {
    const heap = this.#heap;
    const now = this.#clock.now();
    const limit = this.#seq;
    let fired = 0;
    this.#firing = true;
    try {
      for (;;) {
        const next = this.#earliest();
        if (next === undefined || next.at > now || next.seq >= limit) break;
        if (next.index === DUE_NOW) {
          this.#now[this.#nowHead++] = undefined;
          next.index = -1;
        } else heap.pop();
        fired++;
        this.#fire(next, now);
      }
    } finally {
      this.#firing = false;
      this.#nowCompact();
    }
    if (fired > 0) dispatched(fired);
    const next = this.#earliest();
    if (next !== undefined) this.#arm(next.at);
  };

  #fire(timer: TimerEntry, now: number): void {
    const period = timer.period;
    if (period === 0) timer.active = false;
    let result: unknown;
    try {
      result = timer.callback(timer);
    } catch (error) {
      this.report(error, timer);
    }
    if (result instanceof Promise) result.catch((error) => this.report(error, timer));
    if (period === 0 || !timer.active) return;
    if (result === false) {
      timer.active = false;
      return;
    }
    // No drift: the n-th tick is due at origin + n × period; ticks missed
    // while late are skipped, not stacked.
    let count = timer.count + 1;
    let due = timer.origin + count * period;
    if (due <= now) {
      count = Math.floor((now - timer.origin) / period) + 1;
      due = timer.origin + count * period;
    }
    timer.count = count;
    timer.at = due;
    timer.seq = this.#seq++;
    this.#heap.push(timer);
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
      waiter.expireAt(
        this,
        due,
        timeout ? () => waiter.reject(timeoutError(op, ms!)) : () => waiter.resolve(onTime),
      );
    }
    if (signal !== undefined) waiter.abortOn(op, signal);
    if (thread !== undefined) thread.track(waiter as Waiter<unknown>);
    if (owner !== undefined) waiter.addOwner(owner);
    return waiter;
  }

  /** Reports an error nobody else will see. */
  report(error: unknown, source: unknown): void {
    try {
      this.#onError(error, source as Thread);
    } catch (failure) {
      console.error("netkit scheduler: onError threw:", failure);
    }
  }
}

const cores = new WeakMap<object, SchedulerCore>();

/** Links a scheduler to its machinery. */
export function attachCore(scheduler: object, core: SchedulerCore): void {
  cores.set(scheduler, core);
}

/** The machinery of a scheduler (`undefined` for anything else). */
export function coreOf(scheduler: unknown): SchedulerCore | undefined {
  return typeof scheduler === "object" && scheduler !== null ? cores.get(scheduler) : undefined;
}
