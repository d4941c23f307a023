/**
 * Pumps between a child's pipe and a stream handed to it in `files`, for
 * streams whose descriptor Deno does not expose (sockets, socket pairs).
 *
 * @module
 */

import type { Stream } from "../common/stream.ts";

const CHUNK = 64 * 1024;

/**
 * Copies `from` into `to` until `from` ends, then sends end-of-stream on
 * `to`. Stops quietly when either side fails or `signal` aborts: a pump has
 * no caller to report to, and the child sees what a closed pipe shows.
 */
export async function pump(
  from: Stream,
  to: Stream,
  head: Uint8Array | null,
  signal?: AbortSignal,
): Promise<void> {
  const buffer = new Uint8Array(CHUNK);
  const options = signal === undefined ? undefined : { signal };
  try {
    if (head !== null) await to.writeAll(head);
    for (;;) {
      const n = await from.readInto(buffer, options);
      if (n === null) break;
      await to.writeAll(buffer.subarray(0, n));
    }
    await to.shutdown("w");
  } catch {
    // The other end went away; closing the pipe tells the child.
  }
}
