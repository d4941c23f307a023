/**
 * The timer queue's entries and their heap: every timer and timed wait of a
 * scheduler is one {@linkcode TimerEntry} in one binary min-heap, ordered by
 * due time, then by sequence number (first scheduled, first fired).
 *
 * @module
 */

import type { Timer, TimerCallback } from "./timer.ts";

/** The queue a timer takes itself out of when cancelled. */
export interface TimerHost {
  /** Takes the timer out of the queue. */
  remove(timer: TimerEntry): void;
}

/** One queued timer or timed wait, and the {@linkcode Timer} its user holds. */
export class TimerEntry implements Timer {
  /** When it fires (clock milliseconds). */
  at = 0;
  /** Tie-breaker: scheduling order. */
  seq = 0;
  /** Index in the heap, {@linkcode DUE_NOW} in the queue of timers due at once, -1 when not queued. */
  index = -1;
  /** Period of a `runEvery` timer, 0 for a one-shot. */
  readonly period: number;
  /** A `runEvery` timer's start: tick n is due at `origin + n × period`. */
  origin = 0;
  /** The number of the next tick of a `runEvery` timer. */
  count = 0;
  /** True until fired for the last time or cancelled. */
  active = true;
  /** What to call. */
  readonly callback: TimerCallback;
  #host: TimerHost;

  constructor(host: TimerHost, callback: TimerCallback, period: number) {
    this.#host = host;
    this.callback = callback;
    this.period = period;
  }

  get due(): number {
    return this.active ? this.at : Infinity;
  }

  cancel(): boolean {
    if (!this.active) return false;
    this.active = false;
    if (this.index !== -1) this.#host.remove(this);
    return true;
  }

  [Symbol.dispose](): void {
    this.cancel();
  }
}

/** {@linkcode TimerEntry.index} of a timer in the queue of timers due at once (not the heap). */
export const DUE_NOW = -2;

/** Whether `a` fires before `b`: earlier due time, then earlier scheduled. */
export function before(a: TimerEntry, b: TimerEntry): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

/** A binary min-heap of timers that knows each timer's position. */
export class TimerHeap {
  /** The timers, heap-ordered. */
  readonly items: TimerEntry[] = [];

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
    top.index = -1;
    if (last !== top) this.#sink(last, 0);
    return top;
  }

  /** Removes a timer from anywhere in the heap. */
  remove(timer: TimerEntry): void {
    const items = this.items;
    const index = timer.index;
    timer.index = -1;
    const last = items.pop()!;
    if (last === timer) return;
    if (index > 0 && before(last, items[(index - 1) >> 1])) {
      items[index] = last;
      last.index = index;
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
      parent.index = index;
      index = parentIndex;
    }
    items[index] = timer;
    timer.index = index;
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
      items[index].index = index;
      index = child;
    }
    items[index] = timer;
    timer.index = index;
  }
}
