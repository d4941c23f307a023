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

/** True when the options ask for a deadline of any kind. */
export function hasDeadline(options?: DeadlineOptions): boolean {
  return options !== undefined &&
    (options.timeout !== undefined || options.signal !== undefined);
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
  if (options === undefined) return undefined;
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
  if (early) return Promise.reject(early);
  return new Promise<T>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onAbort = () => {
      cleanup();
      reject(abortedError(op, signal!, address));
    };
    const cleanup = () => {
      if (timer !== undefined) clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
    };
    if (timeout !== undefined) {
      timer = setTimeout(() => {
        cleanup();
        reject(timeoutError(op, timeout, address));
      }, timeout);
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
  let timer: ReturnType<typeof setTimeout> | undefined;
  const onAbort = () => {
    dispose();
    controller.abort(abortedError(op, signal!, address));
  };
  const dispose = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    signal?.removeEventListener("abort", onAbort);
  };
  const early = expired(options, op, address);
  if (early) {
    controller.abort(early);
  } else {
    if (timeout !== undefined) {
      timer = setTimeout(() => {
        dispose();
        controller.abort(timeoutError(op, timeout, address));
      }, timeout);
    }
    signal?.addEventListener("abort", onAbort, { once: true });
  }
  return { signal: controller.signal, dispose, [Symbol.dispose]: dispose };
}
