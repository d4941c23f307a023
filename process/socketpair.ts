/**
 * {@linkcode socketpair}: two connected byte streams, both ways.
 *
 * @example
 * ```ts
 * import { socketpair } from "@netkit/netkit/process";
 *
 * const [a, b] = await socketpair();
 * await a.writeAll("hi");
 * console.log(new TextDecoder().decode(await b.readExact(2))); // "hi"
 * a.close();
 * b.close();
 * ```
 *
 * @module
 */

import { toNetError } from "../common/_errors.ts";
import type { Stream } from "../common/stream.ts";
import { handoffStream } from "./_handoff.ts";

/**
 * Makes two connected byte streams (XPIO's `socketpair`): what one writes,
 * the other reads, both ways, with exact half-close. Built on a unix socket
 * under a random abstract name that exists only while the pair connects
 * (nothing touches the file system). Either end can be given to a child in
 * `spawn`'s `files`: it is then closed here and pumped to the child.
 *
 * Permissions: `--allow-net`, unscoped: a `--allow-net=` list cannot name
 * the random abstract socket, so it is refused.
 *
 * @returns Two connected {@linkcode Stream}s.
 * @throws {NetError} `access_denied` without `--allow-net`.
 *
 * @example
 * ```ts
 * import { socketpair } from "@netkit/netkit/process";
 *
 * const [left, right] = await socketpair();
 * await left.writeAll("ping");
 * console.log(new TextDecoder().decode(await right.readExact(4))); // "ping"
 * left.close();
 * right.close();
 * ```
 */
export async function socketpair(): Promise<[Stream, Stream]> {
  const path = `\0netkit-socketpair-${crypto.randomUUID()}`;
  let listener: Deno.UnixListener;
  try {
    listener = Deno.listen({ transport: "unix", path });
  } catch (error) {
    throw toNetError(error, "socketpair");
  }
  const accepting = listener.accept();
  let left: Deno.UnixConn;
  let right: Deno.UnixConn;
  try {
    left = await Deno.connect({ transport: "unix", path });
  } catch (error) {
    listener.close();
    await accepting.catch(() => {});
    throw toNetError(error, "socketpair");
  }
  try {
    right = await accepting;
  } catch (error) {
    left.close();
    throw toNetError(error, "socketpair");
  } finally {
    listener.close();
  }
  const init = { localAddr: null, remoteAddr: null, label: "socketpair" };
  return [handoffStream(left, init), handoffStream(right, init)];
}
