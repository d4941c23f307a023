/**
 * {@linkcode pipe}: a one-way byte channel whose ends can be given to
 * children.
 *
 * @example
 * ```ts
 * import { pipe } from "@netkit/netkit/process";
 *
 * const [reader, writer] = await pipe();
 * await writer.writeAll("one way");
 * writer.close();
 * console.log(new TextDecoder().decode(await reader.readAll())); // "one way"
 * reader.close();
 * ```
 *
 * @module
 */

import type { Stream } from "../common/stream.ts";
import { socketpair } from "./socketpair.ts";

/**
 * Makes a one-way byte channel (XPIO's `pipe`): what the writer writes, the
 * reader reads; closing or shutting down the writer ends the reader's input.
 * Either end can be given to a child in `spawn`'s `files`; it is then closed
 * here (as XPIO does) and netkit pumps its data, so the child sees a pipe.
 * Deno has no `pipe(2)`: the channel is a connected unix socket pair whose
 * reader cannot write and whose writer reads nothing.
 *
 * Permissions: `--allow-net`, unscoped, as for `socketpair` (an abstract
 * unix socket that no `--allow-net=` list can name).
 *
 * @returns `[reader, writer]`.
 * @throws {NetError} `access_denied` without `--allow-net`.
 *
 * @example
 * ```ts
 * import { pipe } from "@netkit/netkit/process";
 *
 * const [reader, writer] = await pipe();
 * await writer.writeAll("through the pipe");
 * writer.close();
 * console.log(new TextDecoder().decode(await reader.readAll())); // "through the pipe"
 * reader.close();
 * ```
 */
export async function pipe(): Promise<[reader: Stream, writer: Stream]> {
  const [reader, writer] = await socketpair();
  await reader.shutdown("w");
  await writer.shutdown("r");
  return [reader, writer];
}
