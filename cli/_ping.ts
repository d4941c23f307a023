/**
 * `nk ping`: ICMP echo through a raw socket (root or CAP_NET_RAW), else an
 * unprivileged ping socket where `net.ipv4.ping_group_range` allows it,
 * printing what `ping` prints: a line per reply, then the statistics.
 *
 * @module
 */

import { isIP } from "node:net";
import { NetError, resolve } from "../mod.ts";
import { bindRaw, type RawSocket } from "../udp/mod.ts";

/** What `nk ping` was asked for. */
export interface PingRequest {
  host: string;
  family?: "inet" | "inet6";
  count: number;
  intervalMs: number;
  /** How long each reply is waited for. */
  waitMs: number;
  signal: AbortSignal;
  /** Prints one line on stdout. */
  print: (line: string) => void;
}

/** ping's 56 data bytes: 64 with the ICMP header. */
const PAYLOAD = 56;
const TYPES = {
  inet: { request: 8, reply: 0 },
  inet6: { request: 128, reply: 129 },
} as const;

/** RFC 1071's checksum (ICMPv6's covers a pseudo-header: the kernel fills it in). */
function internetChecksum(bytes: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) sum += (bytes[i] << 8) | (bytes[i + 1] ?? 0);
  while (sum >>> 16) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

async function openSocket(family: "inet" | "inet6"): Promise<RawSocket> {
  try {
    return await bindRaw({ family });
  } catch (error) {
    if (error instanceof NetError && error.code === "access_denied") {
      return await bindRaw({ family, ping: true });
    }
    throw error;
  }
}

/** The address to ping: a literal as given, else the resolver's first of the family. */
async function target(host: string, family: "inet" | "inet6" | undefined): Promise<string> {
  if (isIP(host) !== 0) return host;
  const found = await resolve(host, family === undefined ? undefined : { family });
  if (found.length === 0) {
    throw new NetError("name_not_resolved", `no address for ${host}`, { op: "ping" });
  }
  return found[0].address;
}

/** Whether an abort ended the wait (Ctrl-C): the statistics are still printed. */
function aborted(error: unknown): boolean {
  return error instanceof NetError && error.code === "aborted";
}

/**
 * Pings until `count` requests went out (or Ctrl-C), one at a time.
 *
 * @returns How many replies came back.
 * @throws {NetError} `not_supported` without `--allow-ffi`, `access_denied`
 *   without a raw or ping socket, `name_not_resolved`.
 */
export async function ping(request: PingRequest): Promise<number> {
  const { host, count, intervalMs, waitMs, signal, print } = request;
  const address = await target(host, request.family);
  const family = isIP(address) === 6 ? "inet6" : "inet";
  await using socket = await openSocket(family);
  const id = crypto.getRandomValues(new Uint16Array(1))[0];
  const shown = address === host ? host : `${host} (${address})`;
  print(`PING ${shown}: ${PAYLOAD} data bytes (${socket.ping ? "ping" : "raw"} socket)`);
  const times: number[] = [];
  let sent = 0;
  try {
    for (let sequence = 1; sequence <= count && !signal.aborted; sequence++) {
      if (sequence > 1) await pause(intervalMs, signal);
      const message = new Uint8Array(8 + PAYLOAD);
      const view = new DataView(message.buffer);
      message[0] = TYPES[family].request;
      view.setUint16(4, id);
      view.setUint16(6, sequence);
      for (let i = 8; i < message.length; i++) message[i] = i & 0xff;
      if (family === "inet") view.setUint16(2, internetChecksum(message));
      const start = performance.now();
      await socket.sendTo(message, address);
      sent++;
      const line = await awaitReply(socket, family, id, sequence, start, waitMs, signal);
      if (line === undefined) continue;
      times.push(line.time);
      print(line.text);
    }
  } catch (error) {
    if (!aborted(error)) throw error;
  }
  const loss = sent === 0 ? 0 : Math.round(100 * (sent - times.length) / sent);
  print(`--- ${host} ping statistics ---`);
  print(`${sent} packets transmitted, ${times.length} received, ${loss}% packet loss`);
  if (times.length > 0) {
    const avg = times.reduce((a, b) => a + b, 0) / times.length;
    const f = (t: number) => t.toFixed(3);
    print(`rtt min/avg/max = ${f(Math.min(...times))}/${f(avg)}/${f(Math.max(...times))} ms`);
  }
  return times.length;
}

/** Waits `ms` (ping's interval), ended early by Ctrl-C. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((done) => {
    const stop = () => {
      clearTimeout(timer);
      done();
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", stop);
      done();
    }, ms);
    signal.addEventListener("abort", stop, { once: true });
  });
}

/** Receives until our reply comes, or the wait ends (`undefined`). */
async function awaitReply(
  socket: RawSocket,
  family: "inet" | "inet6",
  id: number,
  sequence: number,
  start: number,
  waitMs: number,
  signal: AbortSignal,
): Promise<{ text: string; time: number } | undefined> {
  const deadline = start + waitMs;
  for (let seen = 0; seen < 10_000; seen++) {
    const left = deadline - performance.now();
    if (left <= 0) return undefined;
    let datagram;
    try {
      datagram = await socket.receive({ timeout: left, signal });
    } catch (error) {
      if (error instanceof NetError && error.code === "timeout") return undefined;
      throw error;
    }
    // A raw IPv4 socket hands out the IP header first; raw ICMP sockets see all the host's ICMP.
    const header = family === "inet" && !socket.ping ? (datagram.data[0] & 15) * 4 : 0;
    const icmp = datagram.data.subarray(header);
    if (icmp.length < 8 || icmp[0] !== TYPES[family].reply) continue;
    const view = new DataView(icmp.buffer, icmp.byteOffset, icmp.byteLength);
    if ((!socket.ping && view.getUint16(4) !== id) || view.getUint16(6) !== sequence) continue;
    const time = performance.now() - start;
    const ttl = header > 0 ? ` ttl=${datagram.data[8]}` : "";
    return {
      time,
      text: `${icmp.length} bytes from ${datagram.hostname}: icmp_seq=${sequence}${ttl} ` +
        `time=${time.toFixed(3)} ms`,
    };
  }
  return undefined;
}
