/**
 * The readiness protocol `scheduler.select` and `TaskQueue` use: every
 * stream, listener, UDP socket and process pipe implements it under the
 * {@linkcode pollable} symbol. Waiting never consumes data.
 *
 * @module
 */

/** The symbol under which netkit objects expose their {@linkcode Pollable}. */
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

/** True when `value` implements the readiness protocol. */
export function isSelectable(value: unknown): value is Selectable {
  return typeof value === "object" && value !== null &&
    typeof (value as Partial<Selectable>)[pollable] === "function";
}
