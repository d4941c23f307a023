/**
 * Processes and plumbing (XPIO's spawn, pipe, socketpair, fdopen): start a
 * program with an explicit map of its descriptors, talk to it over netkit
 * {@linkcode Stream}s, signal it or its whole process group, and wait for
 * `{ exited }` or `{ signaled }`.
 *
 * @example A child that reports on fd 3 while its stdout stays free
 * ```ts
 * import { spawn } from "@netkit/netkit/process";
 *
 * await using child = await spawn(["sh", "-c", "echo out; echo report >&3"], {
 *   files: { 1: "piped", 3: "piped" },
 * });
 * console.log(await child.stdio[3]!.readLine()); // "report"
 * console.log(await child.stdout.readLine()); // "out"
 * console.log(await child.wait()); // { exited: 0 }
 * ```
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
export type { DeadlineOptions } from "../common/deadline.ts";
export { socketpair } from "./socketpair.ts";
export { pipe } from "./pipe.ts";
export { fdopen } from "./fdopen.ts";
export type { Adopted, FdopenOptions } from "./fdopen.ts";
export { listenFds } from "./listen_fds.ts";
export type { ListenFd } from "./listen_fds.ts";
export { env } from "./env.ts";
export { MAX_FD, spawn } from "./spawn.ts";
export type { FileSpec, SpawnOptions } from "./spawn.ts";
export { output } from "./output.ts";
export type { Output, OutputOptions } from "./output.ts";
export { Process } from "./process.ts";
export type { KillOptions, ProcessStatus } from "./process.ts";
