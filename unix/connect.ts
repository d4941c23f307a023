import type { DeadlineOptions } from "../common/deadline.ts";
import { expired, withDeadline } from "../common/_deadline.ts";
import { toNetError } from "../common/_errors.ts";
import { DEADLINE_RULES, validateOptions } from "../common/_options.ts";
import { toSocketPath } from "../common/_unix_path.ts";
import { UnixStream } from "./stream.ts";
import { unixAddr } from "./_util.ts";
import { displayPath } from "../common/_unix_path.ts";

/** Options of {@linkcode connect}: only a deadline (Ward reserves the rest). */
export type ConnectOptions = DeadlineOptions;

/**
 * Connects to the unix socket at `path` (a filesystem path, or on Linux an
 * abstract name `"\0name"` / `"@name"`).
 *
 * @param path Where the server listens.
 * @param options `timeout` and `signal` only; any other field is rejected.
 * @returns The connected stream; its `remoteAddr.path` is `path`
 *   (abstract names as `"\0name"`).
 * @throws {NetError} `not_found` (no such path), `connection_refused`
 *   (nothing listens there, or not a socket, or the backlog is full),
 *   `access_denied` (socket or directory permissions, or a missing
 *   `--allow-read`/`--allow-write`/`--allow-net`), `invalid_argument`,
 *   `timeout`, `aborted`.
 *
 * @example
 * ```ts
 * import { connect, listen } from "@netkit/netkit/unix";
 *
 * const dir = await Deno.makeTempDir();
 * await using listener = await listen(`${dir}/app.sock`);
 * await using client = await connect(`${dir}/app.sock`, { timeout: 1000 });
 * await using server = await listener.accept();
 * await client.writeAll("hi");
 * console.log(await server.readExact(2)); // Uint8Array(2) [ 104, 105 ]
 * await listener[Symbol.asyncDispose]();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function connect(path: string, options?: ConnectOptions): Promise<UnixStream> {
  let socketPath: string;
  try {
    socketPath = toSocketPath("connect", path);
    if (options !== undefined) {
      options = validateOptions<ConnectOptions>("connect", options, DEADLINE_RULES);
      const early = expired(options, "connect", displayPath(socketPath));
      if (early) throw early;
    }
  } catch (error) {
    return Promise.reject(error);
  }
  return connected(Deno.connect({ transport: "unix", path: socketPath }), socketPath, options);
}

/**
 * The stream once `attempt` connects; failures are NetErrors naming the
 * path. A unix connect never blocks (connected, refused or backlog full at
 * once), so a deadline only has to stop the waiting; a connection that
 * arrives late is closed.
 */
async function connected(
  attempt: Promise<Deno.UnixConn>,
  socketPath: string,
  options: ConnectOptions | undefined,
): Promise<UnixStream> {
  let conn: Deno.UnixConn;
  try {
    conn = await withDeadline(attempt, options, "connect", displayPath(socketPath));
  } catch (error) {
    attempt.then((late) => late.close(), () => {});
    throw toNetError(error, "connect", displayPath(socketPath));
  }
  return new UnixStream(conn, { localAddr: conn.localAddr, remoteAddr: unixAddr(socketPath) });
}
