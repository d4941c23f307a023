/**
 * Deadlines: `{ timeout, signal }` turned into one {@linkcode Deadline} per
 * call, fixed when the call starts and shared by every wait inside it (the
 * lock, each runtime read, each lookup), leaving no timer and no listener
 * behind.
 *
 * @module
 */

import type { DeadlineOptions } from "./deadline.ts";
import { NetError } from "./errors.ts";
import { DEADLINE_RULES, validateOptions } from "./_options.ts";

/** True when the options ask for a deadline of any kind (`null` asks for none). */
export function hasDeadline(options?: DeadlineOptions | null): boolean {
  return options !== undefined && options !== null &&
    (options.timeout !== undefined || options.signal !== undefined);
}

/** The longest delay `setTimeout` honours (2^31 − 1 ms); a longer one would fire at once. */
const MAX_TIMER_DELAY = 2 ** 31 - 1;

/** The `timeout` error of an operation. */
export function timeoutError(op: string, ms: number, address?: string): NetError {
  return new NetError("timeout", `timed out after ${ms} ms`, { op, address });
}

/** The `aborted` error of an operation, with the signal's reason as cause. */
export function abortedError(op: string, signal: AbortSignal, address?: string): NetError {
  return new NetError("aborted", "aborted by its signal", {
    op,
    address,
    cause: signal.reason,
  });
}

const ignore = () => {};

/**
 * One call's deadline: the moment its `timeout` runs out, computed once at
 * entry, and its `signal`. Every wait of the call goes through
 * {@linkcode Deadline.wait}, so a peer that keeps a loop busy (one byte at a
 * time) cannot stretch the call: the clock never restarts. One timer and one
 * abort listener serve the whole call; {@linkcode Deadline.dispose} removes
 * both (use `using`).
 *
 * A call waits for one thing at a time; `wait` is not for concurrent use.
 */
export class Deadline implements Disposable {
  readonly #op: string;
  readonly #address: string | undefined;
  readonly #timeout: number | undefined;
  readonly #signal: AbortSignal | undefined;
  /** When the timeout runs out, on `performance.now()`'s clock. */
  readonly #at: number;
  #error: NetError | undefined;
  #armed = false;
  #disposed = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #reject: ((error: NetError) => void) | undefined;
  #controller: AbortController | undefined;

  private constructor(
    timeout: number | undefined,
    signal: AbortSignal | undefined,
    op: string,
    address: string | undefined,
  ) {
    this.#timeout = timeout;
    this.#signal = signal;
    this.#op = op;
    this.#address = address;
    this.#at = timeout === undefined ? Infinity : performance.now() + timeout;
  }

  /**
   * The deadline of `{ timeout, signal }`, read once (pass options that were
   * already validated), or `undefined` when they ask for none.
   */
  static of(
    options: DeadlineOptions | undefined | null,
    op: string,
    address?: string,
  ): Deadline | undefined {
    if (options === undefined || options === null) return undefined;
    const { timeout, signal } = options;
    if (timeout === undefined && signal === undefined) return undefined;
    return new Deadline(timeout, signal, op, address);
  }

  /**
   * The error the deadline has passed with, or `undefined` while it has not:
   * checked before any work, so that an expired deadline fails even when the
   * result is ready, and consumes nothing.
   */
  get error(): NetError | undefined {
    if (this.#error !== undefined) return this.#error;
    if (this.#signal?.aborted) {
      return this.#error = abortedError(this.#op, this.#signal, this.#address);
    }
    if (this.#timeout !== undefined && (this.#timeout === 0 || performance.now() >= this.#at)) {
      return this.#error = timeoutError(this.#op, this.#timeout, this.#address);
    }
    return undefined;
  }

  /** Throws the deadline's error when it has passed. */
  check(): void {
    const error = this.error;
    if (error !== undefined) throw error;
  }

  /**
   * Waits for `promise` until the deadline: rejects with `timeout` or
   * `aborted` when it passes first. The promise itself goes on (its owner
   * keeps it and uses its result later).
   */
  wait<T>(promise: Promise<T>): Promise<T> {
    const error = this.error;
    if (error !== undefined) {
      // Passed: nothing more will fire; the work goes on unobserved, its own
      // failure must not surface as unhandled.
      this.dispose();
      promise.catch(ignore);
      return Promise.reject(error);
    }
    this.#arm();
    return new Promise<T>((resolve, reject) => {
      this.#reject = reject;
      promise.then(
        (value) => {
          if (this.#reject === reject) this.#reject = undefined;
          resolve(value);
        },
        (failure) => {
          if (this.#reject === reject) this.#reject = undefined;
          reject(failure);
        },
      );
    });
  }

  /**
   * An `AbortSignal` for APIs that take one (e.g. `Deno.connect`): it aborts
   * with this deadline's `timeout` or `aborted` NetError as its reason.
   */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      const error = this.error;
      if (error !== undefined) this.#controller.abort(error);
      else this.#arm();
    }
    return this.#controller.signal;
  }

  /** Starts the one timer and the one listener, at the first wait. */
  #arm(): void {
    if (this.#armed || this.#disposed) return;
    this.#armed = true;
    if (this.#timeout !== undefined) this.#startTimer();
    this.#signal?.addEventListener("abort", this.#onAbort, { once: true });
  }

  #startTimer(): void {
    const left = this.#at - performance.now();
    this.#timer = left > MAX_TIMER_DELAY
      ? setTimeout(() => this.#startTimer(), MAX_TIMER_DELAY)
      : setTimeout(this.#onTimeout, Math.max(0, left));
  }

  #onTimeout = (): void => {
    this.#timer = undefined;
    this.#pass(timeoutError(this.#op, this.#timeout!, this.#address));
  };

  #onAbort = (): void => {
    this.#pass(abortedError(this.#op, this.#signal!, this.#address));
  };

  #pass(error: NetError): void {
    this.#error ??= error;
    this.dispose();
    const reject = this.#reject;
    this.#reject = undefined;
    reject?.(this.#error);
    this.#controller?.abort(this.#error);
  }

  /** Clears the timer and the listener; the deadline no longer fires. */
  dispose(): void {
    this.#disposed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#armed) this.#signal?.removeEventListener("abort", this.#onAbort);
  }

  /** Same as {@linkcode Deadline.dispose} (for `using`). */
  [Symbol.dispose](): void {
    this.dispose();
  }
}

/**
 * Checks `{ timeout, signal }` (an unknown field, a negative timeout or a
 * non-signal is `invalid_argument`), reads them once and returns the call's
 * {@linkcode Deadline}, or `undefined` when none was asked for.
 */
export function deadlineOf(
  op: string,
  options: DeadlineOptions | undefined,
  address?: string,
): Deadline | undefined {
  if (options === undefined) return undefined;
  return Deadline.of(validateOptions<DeadlineOptions>(op, options, DEADLINE_RULES), op, address);
}

/**
 * The error a deadline has already passed with, or `undefined`: an aborted
 * signal, or `timeout: 0`.
 */
export function expired(
  options: DeadlineOptions | undefined | null,
  op: string,
  address?: string,
): NetError | undefined {
  return Deadline.of(options, op, address)?.error;
}

/**
 * Waits for one `promise` under `{ timeout, signal }` (a call that waits
 * once; a call that waits several times holds one {@linkcode Deadline}).
 * Without a deadline the promise is returned as it is.
 *
 * @param promise What to wait for.
 * @param options `{ timeout, signal }`, already validated.
 * @param op The operation, for the error.
 * @param address The address, for the error.
 */
export function withDeadline<T>(
  promise: Promise<T>,
  options: DeadlineOptions | undefined | null,
  op: string,
  address?: string,
): Promise<T> {
  const deadline = Deadline.of(options, op, address);
  if (deadline === undefined) return promise;
  const waiting = deadline.wait(promise);
  waiting.then(() => deadline.dispose(), () => deadline.dispose());
  return waiting;
}
