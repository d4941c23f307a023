/**
 * Opening UDP sockets: the option rules of `bind`/`connect`, the check for
 * Deno's unstable datagram API, and the one path that turns checked options
 * into a bound `UdpSocket`.
 *
 * @module
 */

import { checkHost, checkPort, hostPortLabel } from "../common/_address.ts";
import { NetError } from "../common/errors.ts";
import { toNetError } from "../common/_errors.ts";
import type { Schema } from "../common/_options.ts";
import { checkMembership, familyOf, resolveFor } from "./_address.ts";
import type { BindOptions } from "./bind.ts";
import { UdpSocket } from "./socket.ts";

/** The receive buffer size when none is given: every UDP datagram fits. */
export const DEFAULT_BUFFER_SIZE = 65536;
/** The largest `bufferSize` accepted (16 MiB). */
export const MAX_BUFFER_SIZE: number = 16 * 1024 * 1024;

/** The rules of {@linkcode BindOptions}. */
export const BIND_RULES: Schema = {
  hostname: { type: "string", nonEmpty: true },
  port: { type: "integer", min: 0, max: 65535 },
  reuseAddress: { type: "boolean" },
  loopback: { type: "boolean" },
  broadcast: { type: "boolean" },
  bufferSize: { type: "integer", min: 1, max: MAX_BUFFER_SIZE },
  multicast: {
    type: "custom",
    accepts: "a group address or an array of them",
    check: (value) =>
      typeof value === "string" ||
      (Array.isArray(value) && value.every((group) => typeof group === "string")),
  },
  multicastInterface: {
    type: "custom",
    accepts: "an IPv4 interface address or an IPv6 interface index",
    check: (value) =>
      typeof value === "string" ||
      (typeof value === "number" && Number.isInteger(value) && value >= 0),
  },
  multicastTTL: { type: "integer", min: 0, max: 255 },
};

/** Fails with `not_supported` when Deno runs without `--unstable-net`. */
export function requireDatagrams(op: string): void {
  if (typeof (Deno as { listenDatagram?: unknown }).listenDatagram !== "function") {
    throw new NetError(
      "not_supported",
      "Deno.listenDatagram is unavailable: run with --unstable-net " +
        '(or "unstable": ["net"] in deno.json)',
      { op },
    );
  }
}

/** Binds a socket with validated options; used by `bind` and `connect`. */
export async function openSocket(op: string, options: BindOptions): Promise<UdpSocket> {
  requireDatagrams(op);
  if (options.broadcast === false) {
    throw new NetError(
      "not_supported",
      "Deno enables SO_BROADCAST on every UDP socket and cannot disable it",
      { op, field: "broadcast" },
    );
  }
  const host = checkHost(op, options.hostname ?? "0.0.0.0");
  const port = checkPort(op, options.port ?? 0);
  const hostname = await resolveFor(op, "dual", host, "hostname");
  const groups = typeof options.multicast === "string"
    ? [options.multicast]
    : options.multicast ?? [];
  // Everything is checked before the socket exists: bad input opens nothing.
  const family = familyOf(hostname);
  for (const group of groups) {
    checkMembership(op, family, group, options.multicastInterface, undefined);
  }
  if (options.multicastTTL !== undefined && family === "v6") {
    throw new NetError(
      "not_supported",
      "Deno cannot set the IPv6 multicast hop limit; the kernel default (1) applies",
      { op, field: "multicastTTL" },
    );
  }
  const loopback = options.loopback ?? true;
  let conn: Deno.DatagramConn;
  try {
    conn = Deno.listenDatagram({
      transport: "udp",
      hostname,
      port,
      reuseAddress: options.reuseAddress ?? false,
      loopback,
    });
  } catch (error) {
    throw toNetError(error, op, hostPortLabel(hostname, port));
  }
  const socket = new UdpSocket(conn, { bufferSize: options.bufferSize ?? DEFAULT_BUFFER_SIZE });
  try {
    // Deno's `loopback` sets only the IPv6 option on a dual-stack socket.
    if (!loopback && familyOf(hostname) === "dual") await socket.setMulticastLoopback(false);
    if (options.multicastTTL !== undefined) await socket.setMulticastTTL(options.multicastTTL);
    for (const group of groups) await socket.joinMulticast(group, options.multicastInterface);
  } catch (error) {
    socket.close();
    throw error;
  }
  return socket;
}
