/**
 * The readiness protocol `scheduler.select` and `TaskQueue` use: every
 * stream, listener, UDP socket and process pipe implements it under the
 * {@linkcode pollable} symbol. Waiting never consumes data.
 *
 * @module
 */

/**
 * The symbol under which netkit objects expose their {@linkcode Pollable}.
 *
 * @example Ask a stream whether a read would wait
 * ```ts
 * import { pollable } from "@netkit/netkit";
 * import { socketpair } from "@netkit/netkit/process";
 *
 * const [a, b] = await socketpair();
 * await a.writeAll("x");
 * await b[pollable]().waitRead(); // resolves once a read would not wait
 * console.log(b[pollable]().pollRead()); // true
 * a.close();
 * b.close();
 * ```
 */
export const pollable: unique symbol = Symbol.for("netkit.pollable");

/** What `select` asks of an object. */
export interface Pollable {
  /** True once the object is closed (`select` then ignores it). */
  readonly closed: boolean;
  /** True when a read/accept/receive would not wait now. */
  pollRead(): boolean;
  /** Resolves when a read/accept/receive would not wait (never consumes). */
  waitRead(): Promise<void>;
  /** True when a write would not wait now. */
  pollWrite(): boolean;
  /** Resolves when a write would not wait. */
  waitWrite(): Promise<void>;
}

/** An object that can be selected on. */
export interface Selectable {
  /** Its readiness. */
  [pollable](): Pollable;
}

/**
 * Tells whether `value` implements the readiness protocol (has a
 * `[pollable]()` method), so `select` and `TaskQueue` can wait on it.
 *
 * @param value Anything.
 * @returns `true` for netkit streams, listeners, UDP sockets and processes.
 *
 * @example
 * ```ts
 * import { isSelectable } from "@netkit/netkit";
 * import { socketpair } from "@netkit/netkit/process";
 *
 * const [a, b] = await socketpair();
 * console.log(isSelectable(a), isSelectable({})); // true false
 * a.close();
 * b.close();
 * ```
 */
export function isSelectable(value: unknown): value is Selectable {
  return typeof value === "object" && value !== null &&
    typeof (value as Partial<Selectable>)[pollable] === "function";
}
