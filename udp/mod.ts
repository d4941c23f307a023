/**
 * The `udp` module of netkit (being built; see the README).
 *
 * @example
 * ```ts
 * import { NetError } from "@netkit/netkit/udp";
 *
 * console.log(new NetError("closed", "example", { op: "demo" }).code); // "closed"
 * ```
 *
 * @module
 */

export { NetError } from "../common/errors.ts";
export type { ErrorCode } from "../common/errors.ts";
