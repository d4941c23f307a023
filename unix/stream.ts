import { Stream, type StreamInit } from "../common/stream.ts";

/**
 * A connected unix domain stream socket: the netkit {@linkcode Stream}
 * (deadline-safe reads, framing, exact half-close, web streams) whose
 * `localAddr`/`remoteAddr` report the listener's path as the user gave it.
 * Made by {@linkcode connect} and `UnixListener.accept()`.
 *
 * @example Ward's echo, one round
 * ```ts
 * import { connect, listen } from "@netkit/netkit/unix";
 *
 * const dir = await Deno.makeTempDir();
 * const listener = await listen(`${dir}/echo.sock`);
 * const client = await connect(`${dir}/echo.sock`);
 * const server = await listener.accept();
 * await client.writeAll("ping");
 * await server.writeAll((await server.read(1024))!);
 * console.log(new TextDecoder().decode(await client.readExact(4))); // "ping"
 * console.log(client.remoteAddr); // { transport: "unix", path: ".../echo.sock" }
 * client.close();
 * server.close();
 * listener.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class UnixStream extends Stream {
  /**
   * Wraps a connection (user code gets streams from `connect` and `accept`).
   *
   * @param conn The runtime connection.
   * @param init Addresses to report instead of the runtime's.
   */
  constructor(conn: Deno.UnixConn, init?: StreamInit) {
    super(conn, init);
  }
}
