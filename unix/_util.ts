/**
 * Private helpers of the unix module.
 *
 * @module
 */

import { probeByConnect } from "../common/_unix_path.ts";

/** The `Deno.UnixAddr` of a path. */
export function unixAddr(path: string | null): Deno.UnixAddr {
  return { transport: "unix", path: path as string };
}

/**
 * Tells a live server from a stale socket file left by a crashed one
 * (see `probeByConnect`); a full backlog (`WouldBlock`) means a live server.
 */
export function probeStream(path: string): Promise<"alive" | "stale"> {
  return probeByConnect(path, (error) => error instanceof Deno.errors.WouldBlock);
}
