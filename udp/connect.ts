/**
 * `connect`: a UDP socket with a default destination that receives only
 * from it.
 *
 * @module
 */

import { checkPort, stripBrackets } from "../common/_address.ts";
import { isIP } from "node:net";
import type { DeadlineOptions } from "../common/deadline.ts";
import { withDeadline } from "../common/_deadline.ts";
import { DEADLINE_RULES, invalidArgument, validateOptions } from "../common/_options.ts";
import { canonicalIP, resolveFor } from "./_address.ts";
import type { BindOptions } from "./bind.ts";
import { BIND_RULES, openSocket, requireDatagrams } from "./_open.ts";
import type { UdpSocket } from "./socket.ts";

/** Options of {@linkcode connect}: the local side's {@linkcode BindOptions} and a deadline. */
export interface ConnectOptions extends BindOptions, DeadlineOptions {}

/**
 * Makes a connected UDP socket (sock's UDP `connect`, lsocket
 * `connect("udp"|"mcast", …)`): `send` goes to `host:port`, and datagrams
 * from anyone else are dropped (a userland filter: Deno has no UDP
 * `connect(2)`; IPv4-mapped `::ffff:` forms match their IPv4 peer). The
 * local side binds `"0.0.0.0"` (IPv4 peer) or `"::"` (IPv6 peer), port 0,
 * unless `hostname`/`port` say otherwise. For a multicast group nothing is
 * filtered, and `multicastTTL` is lsocket's `ttl`.
 *
 * @param host The peer's IP address or host name (resolved once, IPv4 first).
 * @param port The peer's port, 1..65535.
 * @param options Local {@linkcode BindOptions} and `{ timeout, signal }` for
 *   the name resolution.
 * @returns The connected socket.
 * @throws {NetError} `invalid_argument`, `name_not_resolved`,
 *   `address_in_use`, `not_supported` (no `--unstable-net`), `timeout`, `aborted`.
 *
 * @example A request and its reply
 * ```ts
 * import { bind, connect } from "@netkit/netkit/udp";
 *
 * await using server = await bind({ hostname: "127.0.0.1", port: 0 });
 * await using client = await connect("127.0.0.1", server.addr.port);
 * await client.send("ping");
 * const request = await server.receive({ timeout: 1000 });
 * await server.sendTo("pong", request.hostname, request.port);
 * console.log(new TextDecoder().decode((await client.receive({ timeout: 1000 })).data)); // "pong"
 * ```
 */
export async function connect(
  host: string,
  port: number,
  options?: ConnectOptions,
): Promise<UdpSocket> {
  const op = "connect";
  const { timeout, signal, ...local } = validateOptions<ConnectOptions>(op, options, {
    ...BIND_RULES,
    ...DEADLINE_RULES,
  });
  requireDatagrams(op);
  if (typeof host !== "string" || host === "") {
    throw invalidArgument(op, "host", "an IP address or a host name", host);
  }
  checkPort(op, port, "port", 1);
  const deadline: DeadlineOptions = { timeout, signal };
  const bare = stripBrackets(host);
  const ip = isIP(bare) !== 0
    ? bare
    : await withDeadline(resolveFor(op, "dual", bare, "host"), deadline, op, host);
  local.hostname ??= isIP(canonicalIP(ip)) === 4 ? "0.0.0.0" : "::";
  const socket = await openSocket(op, local);
  try {
    await socket.connect(ip, port);
  } catch (error) {
    socket.close();
    throw error;
  }
  return socket;
}
