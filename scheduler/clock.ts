/**
 * Clocks a {@linkcode Scheduler} runs on: the system's monotonic clock, or a
 * {@linkcode ManualClock} that tests move forward by hand.
 *
 * @module
 */

import { NetError } from "../common/errors.ts";
import { validateArgument } from "../common/_options.ts";

/**
 * What a scheduler needs from a clock: the time, and one alarm at a time per
 * scheduler. Times are milliseconds.
 *
 * @example A clock that reads the system time
 * ```ts
 * import { type Clock, systemClock } from "@netkit/netkit/scheduler";
 *
 * const clock: Clock = systemClock;
 * console.log(clock.now() >= 0); // true
 * ```
 */
export interface Clock {
  /** The current time in milliseconds (monotonic). */
  now(): number;
  /**
   * Calls `callback` once, at or after time `at`.
   *
   * @returns A handle for {@linkcode Clock.clearAlarm}.
   */
  setAlarm(at: number, callback: () => void): unknown;
  /** Cancels an alarm that has not fired (harmless after it fired). */
  clearAlarm(handle: unknown): void;
}

const MAX_HOST_DELAY = 2 ** 31 - 1;

interface HostHandle {
  immediate: boolean;
  id: unknown;
}

/**
 * The system clock: `performance.now()` and one host timer per alarm. An
 * alarm already due runs on the next turn of the event loop
 * (`setImmediate`) instead of a `setTimeout(0)`, which Deno rounds up to
 * about 2 ms.
 *
 * @example
 * ```ts
 * import { systemClock } from "@netkit/netkit/scheduler";
 *
 * const start = systemClock.now();
 * await new Promise<void>((resolve) => systemClock.setAlarm(start + 5, resolve));
 * console.log(systemClock.now() - start >= 5); // true
 * ```
 */
export const systemClock: Clock = {
  now(): number {
    return performance.now();
  },
  setAlarm(at: number, callback: () => void): unknown {
    const delay = Math.ceil(at - performance.now());
    if (delay <= 0) return { immediate: true, id: setImmediate(callback) } as HostHandle;
    // Host timers overflow past 2^31-1 ms and fire at once; an alarm capped
    // there fires early, and the scheduler re-arms for what is not yet due.
    const capped = Math.min(delay, MAX_HOST_DELAY);
    return { immediate: false, id: setTimeout(callback, capped) } as HostHandle;
  },
  clearAlarm(handle: unknown): void {
    const host = handle as HostHandle;
    if (host.immediate) clearImmediate(host.id as ReturnType<typeof setImmediate>);
    else clearTimeout(host.id as number);
  },
};

interface ManualAlarm {
  at: number;
  order: number;
  callback: () => void;
}

const MAX_STEPS = 1_000_000;

/**
 * A clock that only moves when told to. `advance(ms)` fires every alarm due
 * in that span in time order, synchronously, with `now()` equal to each
 * alarm's time while it fires — so timer logic is tested exactly and
 * without waiting. It creates no host timer.
 *
 * Promise continuations (code after `await sleep(…)`) run only when the test
 * yields; use {@linkcode ManualClock.advanceAsync} to let them run between
 * due times.
 *
 * @example
 * ```ts
 * import { ManualClock, Scheduler } from "@netkit/netkit/scheduler";
 *
 * const clock = new ManualClock();
 * const scheduler = new Scheduler({ clock });
 * const fired: number[] = [];
 * scheduler.runAfter(20, () => fired.push(clock.now()));
 * scheduler.runAfter(10, () => fired.push(clock.now()));
 * clock.advance(25);
 * console.log(fired); // [ 10, 20 ]
 * ```
 */
export class ManualClock implements Clock {
  #now: number;
  #alarms: ManualAlarm[] = [];
  #order = 0;

  /**
   * Makes a clock.
   *
   * @param start The initial time in milliseconds (default 0).
   * @throws {NetError} `invalid_argument` when `start` is not a finite number.
   */
  constructor(start = 0) {
    validateArgument("ManualClock", "start", start, { type: "number" });
    this.#now = start;
  }

  /**
   * The clock's time.
   *
   * @returns Milliseconds.
   *
   * @example
   * ```ts
   * import { ManualClock } from "@netkit/netkit/scheduler";
   *
   * const clock = new ManualClock(100);
   * clock.advance(5);
   * console.log(clock.now()); // 105
   * ```
   */
  now(): number {
    return this.#now;
  }

  /**
   * Registers an alarm (used by the scheduler).
   *
   * @param at When it is due.
   * @param callback What to call.
   * @returns Its handle.
   *
   * @example
   * ```ts
   * import { ManualClock } from "@netkit/netkit/scheduler";
   *
   * const clock = new ManualClock();
   * clock.setAlarm(3, () => console.log("ring at", clock.now())); // ring at 3
   * clock.advance(10);
   * ```
   */
  setAlarm(at: number, callback: () => void): unknown {
    const alarm = { at, order: this.#order++, callback };
    this.#alarms.push(alarm);
    return alarm;
  }

  /**
   * Cancels an alarm.
   *
   * @param handle What {@linkcode ManualClock.setAlarm} returned.
   *
   * @example
   * ```ts
   * import { ManualClock } from "@netkit/netkit/scheduler";
   *
   * const clock = new ManualClock();
   * clock.clearAlarm(clock.setAlarm(3, () => console.log("never")));
   * clock.advance(10);
   * console.log(clock.pending); // 0
   * ```
   */
  clearAlarm(handle: unknown): void {
    const index = this.#alarms.indexOf(handle as ManualAlarm);
    if (index >= 0) this.#alarms.splice(index, 1);
  }

  /**
   * How many alarms are set (a scheduler keeps at most one).
   *
   * @example
   * ```ts
   * import { ManualClock, Scheduler } from "@netkit/netkit/scheduler";
   *
   * const clock = new ManualClock();
   * const timer = new Scheduler({ clock }).runAfter(5, () => {});
   * console.log(clock.pending); // 1
   * timer.cancel();
   * console.log(clock.pending); // 0
   * ```
   */
  get pending(): number {
    return this.#alarms.length;
  }

  #next(until: number): ManualAlarm | undefined {
    let best: ManualAlarm | undefined;
    for (const alarm of this.#alarms) {
      if (alarm.at > until) continue;
      if (
        best === undefined || alarm.at < best.at ||
        (alarm.at === best.at && alarm.order < best.order)
      ) {
        best = alarm;
      }
    }
    return best;
  }

  #step(until: number): boolean {
    const alarm = this.#next(until);
    if (alarm === undefined) return false;
    this.#alarms.splice(this.#alarms.indexOf(alarm), 1);
    if (alarm.at > this.#now) this.#now = alarm.at;
    alarm.callback();
    return true;
  }

  #target(op: string, ms: number): number {
    validateArgument(op, "ms", ms, { type: "number", min: 0 });
    return this.#now + ms;
  }

  /**
   * Moves time forward by `ms`, firing every alarm due on the way, in order
   * and synchronously.
   *
   * @param ms Milliseconds (≥ 0).
   * @throws {NetError} `invalid_argument` for a negative or non-finite `ms`;
   *   `resource_exhausted` when alarms keep re-arming at the same instant
   *   (a timer that reschedules itself with no delay, forever).
   *
   * @example
   * ```ts
   * import { ManualClock, Scheduler } from "@netkit/netkit/scheduler";
   *
   * const clock = new ManualClock();
   * const scheduler = new Scheduler({ clock });
   * let ticks = 0;
   * const timer = scheduler.runEvery(10, () => void ticks++);
   * clock.advance(1000);
   * timer.cancel();
   * console.log(ticks); // 100
   * ```
   */
  advance(ms: number): void {
    const target = this.#target("advance", ms);
    for (let steps = 0; this.#step(target); steps++) {
      if (steps >= MAX_STEPS) throw this.#runaway();
    }
    this.#now = target;
  }

  /**
   * Like {@linkcode ManualClock.advance}, but after each due time it lets
   * the event loop turn once, so code awaiting a sleep resumes at that
   * time (and can sleep again) before the clock moves on.
   *
   * @param ms Milliseconds (≥ 0).
   * @throws {NetError} As {@linkcode ManualClock.advance}.
   *
   * @example A thread that sleeps in a loop
   * ```ts
   * import { ManualClock, Scheduler } from "@netkit/netkit/scheduler";
   *
   * const clock = new ManualClock();
   * const scheduler = new Scheduler({ clock });
   * const seen: number[] = [];
   * const worker = scheduler.thread(async () => {
   *   for (let i = 0; i < 3; i++) {
   *     await scheduler.sleep(10);
   *     seen.push(clock.now());
   *   }
   * });
   * await clock.advanceAsync(30);
   * await worker.done;
   * console.log(seen); // [ 10, 20, 30 ]
   * ```
   */
  async advanceAsync(ms: number): Promise<void> {
    const target = this.#target("advanceAsync", ms);
    await yieldTurn();
    for (let steps = 0; this.#step(target); steps++) {
      if (steps >= MAX_STEPS) throw this.#runaway();
      await yieldTurn();
    }
    this.#now = target;
  }

  #runaway(): NetError {
    return new NetError(
      "resource_exhausted",
      `more than ${MAX_STEPS} alarms fired at time ${this.#now}: a timer reschedules itself forever`,
      { op: "advance" },
    );
  }
}

/** One turn of the event loop: every pending promise continuation runs. */
function yieldTurn(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}
