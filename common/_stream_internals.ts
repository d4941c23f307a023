/**
 * Internal hooks of `Stream` for other netkit modules (startTls): whether a
 * runtime read is in flight, holding its writes, and taking the transport
 * out of a stream.
 *
 * @module
 */

import type { Deadline } from "./_deadline.ts";
import type { Stream, StreamTransport } from "./stream.ts";

/** What `Stream` registers in its static block. */
export interface StreamInternals {
  /** True while a runtime read of the stream's transport is outstanding. */
  reading(stream: Stream): boolean;
  /**
   * Takes the stream's write lock, once every write in flight (one a
   * deadline abandoned too) has ended, within `deadline`; resolves to the
   * function that gives it back.
   */
  holdWrites(stream: Stream, deadline?: Deadline): Promise<() => void>;
  /** Marks the stream closed without closing its transport, and returns the transport. */
  detach(stream: Stream): StreamTransport;
}

let internals: StreamInternals | undefined;

/** Called once by `Stream`. */
export function registerStreamInternals(hooks: StreamInternals): void {
  internals = hooks;
}

/** The hooks (the `Stream` module is loaded by whoever holds a stream). */
export function streamInternals(): StreamInternals {
  if (internals === undefined) throw new Error("Stream internals are not registered");
  return internals;
}
