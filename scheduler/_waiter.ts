/**
 * One pending scheduler wait (a sleep, a sleep-job sleep, a suspended
 * thread): settled once, by its timer, its signal, a wakeup or the
 * cancellation of the thread that waits.
 *
 * @module
 */

import type { TimerEntry } from "./timer.ts";

/** Something that tracks the waits it owns (a thread, a sleep job). */
export interface WaiterOwner {
  /** Forgets a settled wait. */
  _forget(waiter: Waiter<unknown>): void;
}

/** A pending wait and its cleanup. */
export class Waiter<T> {
  settled = false;
  timer: TimerEntry | null = null;
  signal: AbortSignal | undefined = undefined;
  onAbort: (() => void) | undefined = undefined;
  owners: WaiterOwner[] = [];
  readonly promise: Promise<T>;
  #resolve!: (value: T) => void;
  #reject!: (error: unknown) => void;

  constructor() {
    this.promise = new Promise<T>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  #cleanup(): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.timer?.cancel();
    this.timer = null;
    if (this.onAbort) this.signal!.removeEventListener("abort", this.onAbort);
    for (const owner of this.owners) owner._forget(this as Waiter<unknown>);
    return true;
  }

  /** Resolves it (once). */
  resolve(value: T): void {
    if (this.#cleanup()) this.#resolve(value);
  }

  /** Rejects it (once). */
  reject(error: unknown): void {
    if (this.#cleanup()) this.#reject(error);
  }
}
