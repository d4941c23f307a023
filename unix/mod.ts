/**
 * Unix domain stream sockets with the path's whole life cycle handled (Ward
 * `ward.ipc.unix`, Racket `unix-socket`, lsocket): stale paths left by a
 * crashed server, permissions that are never wider than asked, owners,
 * parent directories, and removal on close of only this listener's file.
 * Abstract names (`"\0name"` or `"@name"`) work on Linux. Also HTTP over a
 * socket: {@linkcode serve} and {@linkcode client}.
 *
 * @example Echo over a socket in a fresh directory
 * ```ts
 * import { connect, listen } from "@netkit/netkit/unix";
 *
 * const dir = await Deno.makeTempDir();
 * await using listener = await listen(`${dir}/run/echo.sock`, { mkdir: true, mode: 0o600 });
 * await using client = await connect(listener.path);
 * await using server = await listener.accept();
 * await client.writeAll("ping");
 * await server.writeAll((await server.read())!);
 * console.log(new TextDecoder().decode(await client.readExact(4))); // "ping"
 * await listener[Symbol.asyncDispose]();
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */

export { NetError } from "../common/errors.ts";
export type { ErrorCode } from "../common/errors.ts";
export type { DeadlineOptions } from "../common/deadline.ts";
export type { UnixPathOptions } from "../common/unix_path.ts";
export { available, isPath } from "./available.ts";
export { connect } from "./connect.ts";
export type { ConnectOptions } from "./connect.ts";
export { listen, UnixListener } from "./listen.ts";
export type { ListenOptions } from "./listen.ts";
export { UnixStream } from "./stream.ts";
export { client, serve } from "./serve.ts";
export type { ServeOptions } from "./serve.ts";
