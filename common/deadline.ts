/**
 * Deadlines: `{ timeout, signal }` turned into one cancellation that leaves
 * no timer and no listener behind.
 *
 * @module
 */

import { NetError } from "./errors.ts";

/** The options of every operation that can wait. */
export interface DeadlineOptions {
  /** Milliseconds to wait before rejecting with `timeout`. */
  timeout?: number;
  /** Rejects with `aborted` (the reason as `cause`) when aborted. */
  signal?: AbortSignal;
}

/** True when the options ask for a deadline of any kind (`null` asks for none). */
export function hasDeadline(options?: DeadlineOptions | null): boolean {
  return options !== undefined && options !== null &&
    (options.timeout !== undefined || options.signal !== undefined);
}

/** The longest delay `setTimeout` honours (2^31 − 1 ms); a longer one would fire at once. */
const MAX_TIMER_DELAY = 2 ** 31 - 1;

/** Runs `fire` after `ms`, however long (chained timers past the limit); returns the cancel. */
function startTimer(ms: number, fire: () => void): () => void {
  let timer: ReturnType<typeof setTimeout>;
  const arm = (left: number) => {
    timer = left > MAX_TIMER_DELAY
      ? setTimeout(() => arm(left - MAX_TIMER_DELAY), MAX_TIMER_DELAY)
      : setTimeout(fire, left);
  };
  arm(ms);
  return () => clearTimeout(timer);
}

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

/**
 * The error a deadline has already passed with, or `undefined`: an aborted
 * signal, or `timeout: 0`. Checked before any work so that an expired
 * deadline fails even when the result is ready, and consumes nothing.
 */
export function expired(
  options: DeadlineOptions | undefined,
  op: string,
  address?: string,
): NetError | undefined {
  if (options === undefined || options === null) return undefined;
  if (options.signal?.aborted) return abortedError(op, options.signal, address);
  if (options.timeout === 0) return timeoutError(op, 0, address);
  return undefined;
}

/**
 * Waits for `promise` until the deadline: rejects with `timeout` or `aborted`
 * when it passes first. The promise itself is not cancelled (the caller keeps
 * it and uses its result later). Without a deadline the promise is returned
 * as it is.
 *
 * @param promise What to wait for.
 * @param options `{ timeout, signal }`.
 * @param op The operation, for the error.
 * @param address The address, for the error.
 */
export function withDeadline<T>(
  promise: Promise<T>,
  options: DeadlineOptions | undefined,
  op: string,
  address?: string,
): Promise<T> {
  if (!hasDeadline(options)) return promise;
  const { timeout, signal } = options!;
  const early = expired(options, op, address);
  if (early) {
    // The work goes on unobserved: its own failure must not surface as unhandled.
    promise.catch(() => {});
    return Promise.reject(early);
  }
  return new Promise<T>((resolve, reject) => {
    let stopTimer: (() => void) | undefined;
    const onAbort = () => {
      cleanup();
      reject(abortedError(op, signal!, address));
    };
    const cleanup = () => {
      stopTimer?.();
      signal?.removeEventListener("abort", onAbort);
    };
    if (timeout !== undefined) {
      stopTimer = startTimer(timeout, () => {
        cleanup();
        reject(timeoutError(op, timeout, address));
      });
    }
    signal?.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        cleanup();
        resolve(value);
      },
      (error) => {
        cleanup();
        reject(error);
      },
    );
  });
}

/**
 * One `AbortSignal` for APIs that take a signal (e.g. `Deno.connect`): it
 * aborts with the `timeout` or `aborted` NetError as its reason. Call
 * `dispose()` when the operation has settled, to clear the timer.
 */
export interface DeadlineSignal extends Disposable {
  /** The combined signal, or `undefined` without a deadline. */
  readonly signal: AbortSignal | undefined;
  /** Clears the timer and the listener. */
  dispose(): void;
}

/**
 * Makes a {@linkcode DeadlineSignal} from `{ timeout, signal }`.
 *
 * @param options `{ timeout, signal }`.
 * @param op The operation, for the reason's error.
 * @param address The address, for the reason's error.
 */
export function deadlineSignal(
  options: DeadlineOptions | undefined,
  op: string,
  address?: string,
): DeadlineSignal {
  if (!hasDeadline(options)) {
    return { signal: undefined, dispose() {}, [Symbol.dispose]() {} };
  }
  const { timeout, signal } = options!;
  const controller = new AbortController();
  let stopTimer: (() => void) | undefined;
  const onAbort = () => {
    dispose();
    controller.abort(abortedError(op, signal!, address));
  };
  const dispose = () => {
    stopTimer?.();
    stopTimer = undefined;
    signal?.removeEventListener("abort", onAbort);
  };
  const early = expired(options, op, address);
  if (early) {
    controller.abort(early);
  } else {
    if (timeout !== undefined) {
      stopTimer = startTimer(timeout, () => {
        dispose();
        controller.abort(timeoutError(op, timeout, address));
      });
    }
    signal?.addEventListener("abort", onAbort, { once: true });
  }
  return { signal: controller.signal, dispose, [Symbol.dispose]: dispose };
}
