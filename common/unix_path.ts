/**
 * The path options shared by `unix.listen`, `unix.serve` and
 * `udp.bindUnix`: how a socket file is created, protected and removed.
 *
 * @module
 */

/**
 * The path options of `unix.listen`, `unix.serve` and `udp.bindUnix`.
 *
 * @example
 * ```ts
 * import type { UnixPathOptions } from "@netkit/netkit/unix";
 * import { listen } from "@netkit/netkit/unix";
 *
 * const dir = await Deno.makeTempDir();
 * const options: UnixPathOptions = { mode: 0o600, mkdir: true };
 * await using listener = await listen(`${dir}/run/app.sock`, options);
 * console.log((await Deno.stat(listener.path)).mode! & 0o777); // 384
 * await listener[Symbol.asyncDispose]();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export interface UnixPathOptions {
  /** Permission bits of the socket file, 0..0o777 (default: `0o777 & ~umask`). */
  mode?: number;
  /** Numeric uid to give the socket file (chown after bind). */
  owner?: number;
  /** Numeric gid to give the socket file (chown after bind). */
  group?: number;
  /**
   * Remove a stale socket left at the path by a crashed server (default
   * true). A live server, or a path that is not a socket, is never removed.
   */
  unlink?: boolean;
  /** Remove the path on close, if it is still the file bound here (default true). */
  unlinkOnClose?: boolean;
  /** Create missing parent directories (default false). */
  mkdir?: boolean;
}
