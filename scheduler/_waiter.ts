/**
 * One pending scheduler wait (a sleep, a sleep-job sleep, a suspended
 * thread, a `select`, a task-queue wait): settled once — by its deadline on
 * the scheduler's clock, its abort signal, a wakeup, readiness or the
 * cancellation of the thread that waits — and then it removes its timer,
 * its abort listener and itself from its owners.
 *
 * @module
 */

import { abortedError } from "../common/_deadline.ts";
import type { Timer } from "./timer.ts";

/** The timer queue a waiter's deadline runs on (the scheduler's, so a `ManualClock` drives it). */
export interface WaiterTimers {
  /** The clock's time. */
  now(): number;
  /** Calls `callback` once when the clock reaches `due`. */
  at(due: number, callback: () => void): Timer;
}

/** Something told when a wait it holds has settled (a thread, a sleep job, a select). */
export interface WaiterOwner {
  /** Forgets a settled wait. */
  forget(waiter: Waiter<unknown>): void;
}

/** A pending wait that owns its timer and abort listener and removes both when it settles. */
export class Waiter<T> {
  readonly promise: Promise<T>;
  #settled = false;
  #timer: Timer | undefined = undefined;
  #signal: AbortSignal | undefined = undefined;
  #onAbort: (() => void) | undefined = undefined;
  #owner: WaiterOwner | undefined = undefined;
  #moreOwners: WaiterOwner[] | undefined = undefined;
  #resolve!: (value: T) => void;
  #reject!: (error: unknown) => void;

  constructor() {
    this.promise = new Promise<T>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  /** True once resolved or rejected. */
  get settled(): boolean {
    return this.#settled;
  }

  /** Calls `expire` at clock time `due` unless the wait settles first. */
  expireAt(timers: WaiterTimers, due: number, expire: () => void): void {
    this.#timer = timers.at(due, expire);
  }

  /** Rejects the wait `aborted` (for `op`) when `signal` aborts. */
  abortOn(op: string, signal: AbortSignal): void {
    if (signal.aborted) return this.reject(abortedError(op, signal));
    this.#signal = signal;
    this.#onAbort = () => this.reject(abortedError(op, signal));
    signal.addEventListener("abort", this.#onAbort, { once: true });
  }

  /** Tells `owner` when the wait settles. */
  addOwner(owner: WaiterOwner): void {
    if (this.#owner === undefined) this.#owner = owner;
    else (this.#moreOwners ??= []).push(owner);
  }

  #cleanup(): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    this.#timer?.cancel();
    this.#timer = undefined;
    if (this.#onAbort !== undefined) this.#signal!.removeEventListener("abort", this.#onAbort);
    this.#owner?.forget(this as Waiter<unknown>);
    if (this.#moreOwners !== undefined) {
      for (const owner of this.#moreOwners) owner.forget(this as Waiter<unknown>);
    }
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
