/**
 * The deadline options every netkit operation that can wait takes as its
 * last argument.
 *
 * @module
 */

/**
 * The options of every operation that can wait: a `timeout` in
 * milliseconds for the whole call (not per pass: a peer that dribbles bytes
 * cannot stretch it) and an `AbortSignal`. An expired deadline rejects with
 * `timeout`, an aborted signal with `aborted` (the reason as `cause`); a
 * timed-out read, accept or receive consumes nothing.
 *
 * @example
 * ```ts
 * import type { DeadlineOptions } from "@netkit/netkit";
 * import { listen } from "@netkit/netkit/tcp";
 *
 * const options: DeadlineOptions = { timeout: 10, signal: new AbortController().signal };
 * await using listener = listen({ hostname: "127.0.0.1", port: 0 });
 * console.log(await listener.accept(options).catch((e) => e.code)); // "timeout"
 * ```
 */
export interface DeadlineOptions {
  /** Milliseconds to wait before rejecting with `timeout`. */
  timeout?: number;
  /** Rejects with `aborted` (the reason as `cause`) when aborted. */
  signal?: AbortSignal;
}
