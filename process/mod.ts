/**
 * Processes and plumbing (XPIO's spawn, pipe, socketpair, fdopen).
 *
 * @example A connected pair of streams
 * ```ts
 * import { socketpair } from "@netkit/netkit/process";
 *
 * const [a, b] = await socketpair();
 * await a.writeAll("hi");
 * console.log(await b.readExact(2));
 * a.close();
 * b.close();
 * ```
 *
 * @module
 */

export { NetError } from "../common/errors.ts";
export type { ErrorCode } from "../common/errors.ts";
export { Stream } from "../common/stream.ts";
export { socketpair } from "./socketpair.ts";
