/**
 * What is at a unix socket path, told without removing anything: the probe
 * `unix.listen` makes before it replaces a stale path, as a report.
 *
 * @module
 */

import { NetError } from "../mod.ts";
import * as unix from "../unix/mod.ts";

/** The four answers. */
export type ProbeState = "live" | "stale" | "not-a-socket" | "missing";

/** A probe's answer and why. */
export interface ProbeResult {
  /** The state. */
  state: ProbeState;
  /** A short explanation. */
  note: string;
}

function kindOf(info: Deno.FileInfo): string {
  if (info.isFile) return "a regular file";
  if (info.isDirectory) return "a directory";
  if (info.isSymlink) return "a symbolic link";
  if (info.isFifo) return "a FIFO";
  if (info.isCharDevice || info.isBlockDevice) return "a device";
  return "not a socket";
}

/** Connects once: a server accepting (or with a full backlog) is live. */
async function connectProbe(path: string, timeout: number | undefined): Promise<boolean> {
  try {
    const stream = await unix.connect(path, timeout === undefined ? undefined : { timeout });
    stream.close();
    return true;
  } catch (error) {
    if (error instanceof NetError && error.code === "connection_refused") {
      // A full backlog is refused at once too, but someone is listening.
      return error.cause instanceof Deno.errors.WouldBlock;
    }
    if (error instanceof NetError && error.code === "not_found") return false;
    throw error;
  }
}

/**
 * Probes `path` (a filesystem path, or `@name` for an abstract name):
 * `live` when a server accepts, `stale` for a socket file nobody listens on,
 * `not-a-socket` for anything else at the path, `missing` when nothing is
 * there. Nothing is removed or created.
 *
 * @param path The socket path.
 * @param timeout Connect timeout in milliseconds.
 * @returns The state and a note.
 * @throws {NetError} `access_denied` (no permission to look or to connect,
 *   or a missing `--allow-*` flag), `invalid_argument` for a bad path.
 */
export async function probePath(path: string, timeout?: number): Promise<ProbeResult> {
  if (path[0] === "@" || path[0] === "\0") {
    return await connectProbe(path, timeout)
      ? { state: "live", note: "a server accepts connections" }
      : { state: "missing", note: "no socket has this abstract name" };
  }
  if (!unix.isPath(path)) {
    // The library's own check names the problem.
    await unix.connect(path);
  }
  let info: Deno.FileInfo;
  try {
    info = await Deno.lstat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      return { state: "missing", note: "nothing is there" };
    }
    if (error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied) {
      throw new NetError("access_denied", error.message, {
        op: "probe",
        address: path,
        cause: error,
      });
    }
    throw error;
  }
  if (info.isSymlink) {
    try {
      info = await Deno.stat(path);
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) {
        return { state: "not-a-socket", note: "a dangling symbolic link" };
      }
      throw error;
    }
  }
  if (!info.isSocket) return { state: "not-a-socket", note: kindOf(info) };
  return await connectProbe(path, timeout)
    ? { state: "live", note: "a server accepts connections" }
    : { state: "stale", note: "a socket file nobody listens on (left by a server that died)" };
}
