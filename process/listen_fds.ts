/**
 * {@linkcode listenFds}: the sockets a service manager passed at start
 * (systemd's socket activation, `sd_listen_fds(3)`), as netkit objects.
 *
 * @example
 * ```ts
 * import { listenFds } from "@netkit/netkit/process";
 *
 * // Started by hand, not by systemd: nothing was passed.
 * console.log(listenFds()); // []
 * ```
 *
 * @module
 */

import { NetError } from "../common/errors.ts";
import { toNetError } from "../common/_errors.ts";
import { type Adopted, fdopen } from "./fdopen.ts";

/** One socket passed by socket activation: the adopted object with its name. */
export type ListenFd = Adopted & {
  /**
   * Its name from `LISTEN_FDNAMES` (systemd's `FileDescriptorName=`, by
   * default the socket unit's name), or `"unknown"` when none was given.
   */
  readonly name: string;
};

/** The first descriptor systemd passes (`SD_LISTEN_FDS_START`). */
const FIRST = 3;

function readEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch (error) {
    throw toNetError(error, "listenFds", name);
  }
}

/**
 * The listeners and sockets this process was started with by socket
 * activation (systemd's protocol, also spoken by `systemd-socket-activate`
 * and others): when `LISTEN_PID` is this process's id, the `LISTEN_FDS`
 * descriptors from 3 on, each adopted as by {@linkcode fdopen} (a listening
 * TCP socket becomes a `TcpListener`, a unix one a `UnixListener`, an
 * accepted connection (`Accept=yes`) a `TcpStream` or `UnixStream`), with
 * `name` from `LISTEN_FDNAMES`. The three variables are removed from the
 * environment, as `sd_listen_fds(1)` does, so children do not inherit them;
 * a second call therefore returns `[]`.
 *
 * @returns The adopted objects in descriptor order; `[]` when nothing was
 *   passed or `LISTEN_PID` names another process.
 * @throws {NetError} `access_denied` without `--allow-env` (naming it);
 *   `invalid_argument` (field `LISTEN_FDS`) for a count that is not a
 *   number; `not_supported` without `--allow-ffi` or for a descriptor netkit
 *   has no object for (a datagram socket: see {@linkcode fdopen}); the
 *   descriptors adopted before the failure are closed again.
 *
 * @example A daemon that serves on whatever systemd passed, or its own port
 * ```ts
 * import { listenFds } from "@netkit/netkit/process";
 * import { listen, TcpListener } from "@netkit/netkit/tcp";
 *
 * const passed = listenFds().find((socket) => socket.name === "web");
 * await using listener = passed instanceof TcpListener
 *   ? passed
 *   : listen({ hostname: "127.0.0.1", port: 0 });
 * console.log(listener.addr.port > 0); // true
 * ```
 */
export function listenFds(): ListenFd[] {
  const pid = readEnv("LISTEN_PID");
  const count = readEnv("LISTEN_FDS");
  const names = readEnv("LISTEN_FDNAMES");
  try {
    Deno.env.delete("LISTEN_PID");
    Deno.env.delete("LISTEN_FDS");
    Deno.env.delete("LISTEN_FDNAMES");
  } catch (error) {
    throw toNetError(error, "listenFds", "LISTEN_FDS");
  }
  if (pid === undefined || count === undefined) return [];
  if (!/^\d+$/.test(pid.trim()) || Number(pid) !== Deno.pid) return [];
  if (!/^\d+$/.test(count.trim())) {
    throw new NetError(
      "invalid_argument",
      `LISTEN_FDS must be a count of descriptors (got ${JSON.stringify(count)})`,
      { op: "listenFds", field: "LISTEN_FDS" },
    );
  }
  const n = Number(count);
  const labels = names === undefined || names === "" ? [] : names.split(":");
  const out: ListenFd[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const adopted = fdopen(FIRST + i);
      Object.defineProperty(adopted, "name", {
        value: labels[i] ?? "unknown",
        enumerable: true,
      });
      out.push(adopted as ListenFd);
    }
  } catch (error) {
    for (const adopted of out) adopted.close();
    throw error;
  }
  return out;
}
