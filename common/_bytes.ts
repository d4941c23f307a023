/**
 * Payloads as bytes: what every write and send accepts.
 *
 * @module
 */

import { invalidArgument } from "./_options.ts";

const encoder = new TextEncoder();

/** A payload as bytes: strings are UTF-8 encoded; anything else is `invalid_argument` naming `data`. */
export function toBytes(op: string, data: Uint8Array | string): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (typeof data === "string") return encoder.encode(data);
  throw invalidArgument(op, "data", "a Uint8Array or a string", data);
}
