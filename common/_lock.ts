/**
 * A FIFO lock that costs nothing when uncontended. Used to keep one reader
 * and one writer at a time on a stream.
 *
 * @module
 */

import type { Deadline } from "./_deadline.ts";

/** A FIFO mutual-exclusion lock. */
export class Lock {
  #held = false;
  #waiters: { grant: () => void; abandoned: boolean }[] | undefined;

  /** True while someone holds the lock. */
  get held(): boolean {
    return this.#held;
  }

  /** Takes the lock if it is free; returns whether it did. */
  tryAcquire(): boolean {
    if (this.#held) return false;
    this.#held = true;
    return true;
  }

  /**
   * Waits for the lock within the caller's deadline (the same one its call
   * goes on with). A waiter whose deadline passes gives up its place and
   * never holds the lock.
   */
  acquire(deadline?: Deadline): Promise<void> {
    if (this.tryAcquire()) return Promise.resolve();
    const waiter = { grant: () => {}, abandoned: false };
    const granted = new Promise<void>((resolve) => {
      waiter.grant = resolve;
    });
    (this.#waiters ??= []).push(waiter);
    if (deadline === undefined) return granted;
    return deadline.wait(granted).catch((error) => {
      waiter.abandoned = true;
      // The grant may have come in the same turn as the deadline.
      granted.then(() => this.release());
      throw error;
    });
  }

  /** Hands the lock to the next live waiter, or frees it. */
  release(): void {
    while (this.#waiters !== undefined && this.#waiters.length > 0) {
      const next = this.#waiters.shift()!;
      if (next.abandoned) continue;
      next.grant();
      return;
    }
    this.#held = false;
  }

  /** Resolves when the lock is free (without taking it). */
  async whenFree(): Promise<void> {
    while (this.#held) {
      await this.acquire();
      this.release();
    }
  }
}
