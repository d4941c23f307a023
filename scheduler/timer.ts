/**
 * Timers: what `runAt`, `runAfter` and `runEvery` return.
 *
 * @module
 */

/**
 * A scheduled callback (sock's `sjt`). Cancel it with `cancel()` or `using`.
 *
 * @example Cancel a timer before it fires
 * ```ts
 * import { ManualClock, Scheduler } from "@netkit/netkit/scheduler";
 *
 * const clock = new ManualClock();
 * const scheduler = new Scheduler({ clock });
 * const timer = scheduler.runAfter(10, () => console.log("never"));
 * console.log(timer.active, timer.due); // true 10
 * console.log(timer.cancel(), timer.active); // true false
 * clock.advance(20);
 * ```
 */
export interface Timer extends Disposable {
  /** True until it has fired for the last time or was cancelled. */
  readonly active: boolean;
  /** When it fires next (clock milliseconds); `Infinity` once inactive. */
  readonly due: number;
  /**
   * Stops it. Harmless when it already ran or was cancelled; callable from
   * inside its own callback.
   *
   * @returns True when it was active.
   */
  cancel(): boolean;
}

/** The callback of a timer; it receives the timer (handy to cancel a `runEvery`). */
export type TimerCallback = (timer: Timer) => unknown;
