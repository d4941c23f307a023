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
import { checkMembership, checkSendInterface, familyOf, resolveFor } from "./_address.ts";
import { nativeStatus } from "../common/_native/libc.ts";
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
  const iface = options.multicastInterface;
  if (iface !== undefined) checkSendInterface(op, "multicastInterface", family, iface);
  // What Deno cannot do is done below it: without --allow-ffi, refused before anything opens.
  if (options.broadcast === false) {
    requireNative(
      op,
      "broadcast",
      "broadcast: false (clearing SO_BROADCAST, which Deno always sets)",
    );
  }
  if (options.multicastTTL !== undefined && family === "v6") {
    requireNative(op, "multicastTTL", "multicastTTL on an IPv6 socket (the hop limit)");
  }
  // Without --allow-ffi the interface serves the joins only; with no join it would do nothing.
  const sendInterface = iface !== undefined && nativeStatus().available;
  if (iface !== undefined && !sendInterface && groups.length === 0) {
    requireNative(op, "multicastInterface", "multicastInterface for sending");
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
    if (options.broadcast === false) socket.setOption("so_broadcast", false);
    if (options.multicastTTL !== undefined) await socket.setMulticastTTL(options.multicastTTL);
    if (sendInterface) await socket.setMulticastInterface(iface!);
    for (const group of groups) await socket.joinMulticast(group, options.multicastInterface);
  } catch (error) {
    socket.close();
    throw error;
  }
  return socket;
}

/** `not_supported` naming `--allow-ffi` (or the platform) when the native layer is not there. */
function requireNative(op: string, field: string, what: string): void {
  const status = nativeStatus();
  if (!status.available) {
    throw new NetError("not_supported", `${what} ${status.reason}`, { op, field });
  }
}
