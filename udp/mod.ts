/**
 * UDP and unix datagram sockets for Deno with the semantics of sock, XPIO
 * and lsocket: `bind`, `connect` as a receive filter, `send`/`sendTo`,
 * `receive` with deadlines that lose nothing and datagrams in arrival order,
 * multicast groups with TTL and loopback, and unix datagram sockets with the
 * path's life cycle handled. Needs `--unstable-net` (`Deno.listenDatagram`).
 *
 * @example Echo one datagram on loopback
 * ```ts
 * import { bind, connect } from "@netkit/netkit/udp";
 *
 * await using server = await bind({ hostname: "127.0.0.1", port: 0 });
 * await using client = await connect("127.0.0.1", server.addr.port);
 * await client.send("hello");
 * const { data, hostname, port } = await server.receive({ timeout: 1000 });
 * await server.sendTo(data, hostname, port);
 * console.log(new TextDecoder().decode((await client.receive({ timeout: 1000 })).data)); // "hello"
 * ```
 *
 * @module
 */

export { NetError } from "../common/errors.ts";
export type { ErrorCode } from "../common/errors.ts";
export type { DeadlineOptions } from "../common/deadline.ts";
export { bind } from "./bind.ts";
export type { BindOptions } from "./bind.ts";
export { connect } from "./connect.ts";
export type { ConnectOptions } from "./connect.ts";
export { UdpSocket } from "./socket.ts";
export { DatagramSocket } from "./datagram.ts";
export type { DatagramSource, ReceiveOptions } from "./datagram.ts";
export type { UdpDatagram, UdpSocketInit } from "./socket.ts";
export { MulticastMembership } from "./multicast.ts";
export { bindUnix, UnixDatagramSocket } from "./unix.ts";
export type { BindUnixOptions, UnixDatagram } from "./unix.ts";
export { bindRaw, RawSocket } from "./raw.ts";
export type { BindRawOptions, RawDatagram } from "./raw.ts";
export { connectUnix, UnixDatagramClient } from "./unix_client.ts";
export type { ConnectUnixOptions, UnboundUnixOptions } from "./unix_client.ts";
