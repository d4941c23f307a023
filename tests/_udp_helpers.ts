/** Helpers of the udp tests. */
import assert from "node:assert/strict";
import { NetError } from "../common/errors.ts";

/** UTF-8 text of bytes. */
export const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);

/** Awaits a rejection with a NetError of `code` (and `field`, when given). */
export async function rejectsWith(
  promise: Promise<unknown> | (() => Promise<unknown>),
  code: string,
  field?: string,
): Promise<NetError> {
  try {
    await (typeof promise === "function" ? promise() : promise);
  } catch (error) {
    assert.ok(error instanceof NetError, `expected NetError, got ${error}`);
    assert.equal(error.code, code, error.message);
    if (field !== undefined) assert.equal(error.field, field, error.message);
    return error;
  }
  assert.fail(`expected a NetError ${code}`);
}
