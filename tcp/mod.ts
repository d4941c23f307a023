/**
 * TCP for Deno with the semantics of sock, XPIO and lsocket: `connect` with
 * a deadline (names resolved, every address tried), `listen` with a backlog,
 * `accept` with a timeout that loses nothing, `readExact`/`readAll`, exact
 * half-close (`shutdown("w")` sends FIN and keeps reading), a peer's reset
 * that stays an error, and socket options by POSIX name. Nagle's algorithm
 * is off by default (`noDelay: true`), as in Go.
 *
 * @example Echo one request over IPv4
 * ```ts
 * import { connect, listen } from "@netkit/netkit/tcp";
 *
 * await using listener = listen({ hostname: "127.0.0.1", port: 0 });
 * await using client = await connect("127.0.0.1", listener.addr.port, { timeout: 1000 });
 * await using server = await listener.accept({ timeout: 1000 });
 * await client.writeAll("hello\n");
 * await client.shutdown("w"); // FIN: the server reads end of stream, we still read
 * await server.writeAll(`echo: ${await server.readLine()}\n`);
 * server.close();
 * console.log(await client.readLine()); // "echo: hello"
 * ```
 *
 * @module
 */

export { connect } from "./connect.ts";
export type { ConnectOptions } from "./connect.ts";
export { listen, TcpListener } from "./listen.ts";
export type { ListenOptions } from "./listen.ts";
export { TcpStream } from "./stream.ts";
export { socket, TcpSocket } from "./socket.ts";
export type { SocketConnectOptions, SocketOptions } from "./socket.ts";
export type { TcpOptionName, TcpStreamInit } from "./stream.ts";
export { NetError } from "../common/errors.ts";
export type { ErrorCode } from "../common/errors.ts";
export type { DeadlineOptions } from "../common/deadline.ts";
export { connectTls, listenTls, startTls, TlsListener, TlsStream } from "./tls.ts";
export type {
  ConnectTlsOptions,
  ListenTlsOptions,
  StartTlsOptions,
  TlsHandshakeInfo,
  TlsStreamInit,
} from "./tls.ts";
