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

/** The scheduler side a timer talks to. */
export interface TimerHost {
  /** Takes the timer out of the queue. */
  _remove(timer: TimerEntry): void;
}

/**
 * One queued timer or sleep: its place in the scheduler's heap, ordered by
 * due time, then by sequence number (first scheduled, first fired).
 */
export class TimerEntry implements Timer {
  /** When it fires. */
  _due = 0;
  /** Tie-breaker: scheduling order. */
  _seq = 0;
  /** Index in the heap, or -1 when not queued. */
  _index = -1;
  /** Period of a `runEvery` timer, 0 for a one-shot. */
  _period: number;
  /** A `runEvery` timer's start: tick n is due at `_origin + n × _period`. */
  _origin = 0;
  /** The number of the next tick of a `runEvery` timer. */
  _count = 0;
  /** Active until fired for the last time or cancelled. */
  _active = true;
  /** What to call. */
  _callback: TimerCallback;
  _host: TimerHost;

  constructor(host: TimerHost, callback: TimerCallback, period: number) {
    this._host = host;
    this._callback = callback;
    this._period = period;
  }

  get active(): boolean {
    return this._active;
  }

  get due(): number {
    return this._active ? this._due : Infinity;
  }

  cancel(): boolean {
    if (!this._active) return false;
    this._active = false;
    if (this._index >= 0) this._host._remove(this);
    return true;
  }

  [Symbol.dispose](): void {
    this.cancel();
  }
}

function before(a: TimerEntry, b: TimerEntry): boolean {
  return a._due < b._due || (a._due === b._due && a._seq < b._seq);
}

/** A binary min-heap of timers that knows each timer's position. */
export class TimerHeap {
  /** The timers, heap-ordered. */
  readonly items: TimerEntry[] = [];

  /** The earliest timer, if any. */
  peek(): TimerEntry | undefined {
    return this.items[0];
  }

  /** Number of queued timers. */
  get size(): number {
    return this.items.length;
  }

  /** Adds a timer. */
  push(timer: TimerEntry): void {
    this.items.push(timer);
    this.#swim(this.items.length - 1);
  }

  /** Removes and returns the earliest timer. */
  pop(): TimerEntry {
    const items = this.items;
    const top = items[0];
    const last = items.pop()!;
    top._index = -1;
    if (last !== top) this.#sink(last, 0);
    return top;
  }

  /** Removes a timer from anywhere in the heap. */
  remove(timer: TimerEntry): void {
    const items = this.items;
    const index = timer._index;
    timer._index = -1;
    const last = items.pop()!;
    if (last === timer) return;
    if (index > 0 && before(last, items[(index - 1) >> 1])) {
      items[index] = last;
      last._index = index;
      this.#swim(index);
    } else {
      this.#sink(last, index);
    }
  }

  #swim(index: number): void {
    const items = this.items;
    const timer = items[index];
    while (index > 0) {
      const parentIndex = (index - 1) >> 1;
      const parent = items[parentIndex];
      if (!before(timer, parent)) break;
      items[index] = parent;
      parent._index = index;
      index = parentIndex;
    }
    items[index] = timer;
    timer._index = index;
  }

  #sink(timer: TimerEntry, index: number): void {
    const items = this.items;
    const length = items.length;
    for (;;) {
      let child = 2 * index + 1;
      if (child >= length) break;
      if (child + 1 < length && before(items[child + 1], items[child])) child++;
      if (!before(items[child], timer)) break;
      items[index] = items[child];
      items[index]._index = index;
      index = child;
    }
    items[index] = timer;
    timer._index = index;
  }
}
