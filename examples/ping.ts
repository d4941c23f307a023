/**
 * `ping` on netkit: ICMP echo requests to 127.0.0.1 and ::1 through a raw
 * socket (as root or with CAP_NET_RAW), or through an unprivileged ping
 * socket where `net.ipv4.ping_group_range` allows it, printing what `ping`
 * prints: one line per reply with its round-trip time, then a summary.
 *
 * Run: `deno run -A examples/ping.ts [host ...] [-c count]` (needs
 * `--allow-ffi`; the hosts default to 127.0.0.1 and ::1).
 *
 * @module
 */

import { isIP } from "node:net";
import { bindRaw, NetError, type RawSocket } from "../udp/mod.ts";

const ECHO_REQUEST = { inet: 8, inet6: 128 } as const;
const ECHO_REPLY = { inet: 0, inet6: 129 } as const;
/** ping's default: 56 bytes of data, 64 with the ICMP header. */
const PAYLOAD = 56;

/** The Internet checksum (RFC 1071) of `bytes`. */
function checksum(bytes: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i < bytes.length; i += 2) sum += (bytes[i] << 8) + (bytes[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** An echo request: type, code 0, checksum, identifier, sequence, then the payload. */
function echoRequest(family: "inet" | "inet6", id: number, sequence: number): Uint8Array {
  const message = new Uint8Array(8 + PAYLOAD);
  const view = new DataView(message.buffer);
  message[0] = ECHO_REQUEST[family];
  view.setUint16(4, id);
  view.setUint16(6, sequence);
  for (let i = 8; i < message.length; i++) message[i] = i;
  // ICMPv6 checksums cover a pseudo-header: the kernel computes them (and a ping socket's too).
  if (family === "inet") view.setUint16(2, checksum(message));
  return message;
}

/** Opens a raw socket, or a ping socket when raw ones are not allowed. */
async function open(family: "inet" | "inet6"): Promise<RawSocket> {
  try {
    return await bindRaw({ family });
  } catch (error) {
    if (!(error instanceof NetError) || error.code !== "access_denied") throw error;
    return await bindRaw({ family, ping: true });
  }
}

/**
 * Pings `host` `count` times, one request at a time.
 *
 * @returns The lines `ping` would print.
 */
async function pingHost(host: string, count: number, intervalMs: number): Promise<string[]> {
  const family = isIP(host) === 6 ? "inet6" : "inet";
  await using socket = await open(family);
  const id = crypto.getRandomValues(new Uint16Array(1))[0];
  const lines = [
    `PING ${host}: ${PAYLOAD} data bytes (${socket.ping ? "ping" : "raw"} socket)`,
  ];
  const times: number[] = [];
  for (let sequence = 1; sequence <= count; sequence++) {
    if (sequence > 1 && intervalMs > 0) await new Promise((wake) => setTimeout(wake, intervalMs));
    const request = echoRequest(family, id, sequence);
    const sent = performance.now();
    await socket.sendTo(request, host);
    const deadline = sent + 1000;
    for (;;) {
      const left = deadline - performance.now();
      const datagram = left <= 0
        ? undefined
        : await socket.receive({ timeout: left }).catch((error) => {
          if (error instanceof NetError && error.code === "timeout") return undefined;
          throw error;
        });
      if (datagram === undefined) {
        lines.push(`no reply for icmp_seq=${sequence}`);
        break;
      }
      // An IPv4 raw socket gets the IP header first (its TTL at byte 8).
      const header = family === "inet" && !socket.ping ? (datagram.data[0] & 15) * 4 : 0;
      const icmp = datagram.data.subarray(header);
      const view = new DataView(icmp.buffer, icmp.byteOffset, icmp.byteLength);
      // A raw ICMP socket sees all of the host's ICMP (our own request on loopback too):
      // keep only the echo reply with our identifier (a ping socket's is the kernel's) and sequence.
      if (icmp.length < 8 || icmp[0] !== ECHO_REPLY[family]) continue;
      if (!socket.ping && view.getUint16(4) !== id) continue;
      if (view.getUint16(6) !== sequence) continue;
      const time = performance.now() - sent;
      times.push(time);
      const ttl = header > 0 ? ` ttl=${datagram.data[8]}` : "";
      lines.push(
        `${icmp.length} bytes from ${datagram.hostname}: icmp_seq=${sequence}${ttl} ` +
          `time=${time.toFixed(3)} ms`,
      );
      break;
    }
  }
  const loss = Math.round(100 * (count - times.length) / count);
  lines.push(`--- ${host} ping statistics ---`);
  lines.push(`${count} packets transmitted, ${times.length} received, ${loss}% packet loss`);
  if (times.length > 0) {
    const avg = times.reduce((a, b) => a + b, 0) / times.length;
    lines.push(
      `rtt min/avg/max = ${Math.min(...times).toFixed(3)}/${avg.toFixed(3)}/` +
        `${Math.max(...times).toFixed(3)} ms`,
    );
  }
  return lines;
}

/**
 * Pings each host; when neither a raw nor a ping socket may be opened here
 * (no `--allow-ffi`, no privilege), returns one line saying why.
 *
 * @param hosts IP addresses (or names) to ping.
 * @param count Echo requests per host.
 * @param intervalMs The pause between requests (`ping` waits 1 s).
 */
export async function demo(
  hosts: string[] = ["127.0.0.1", "::1"],
  count = 3,
  intervalMs = 10,
): Promise<string[]> {
  const lines: string[] = [];
  for (const host of hosts) {
    try {
      lines.push(...await pingHost(host, count, intervalMs));
    } catch (error) {
      if (
        error instanceof NetError &&
        (error.code === "not_supported" || error.code === "access_denied")
      ) {
        return [...lines, `ping skipped: ${error.code} (${error.message})`];
      }
      throw error;
    }
  }
  return lines;
}

if (import.meta.main) {
  const args = [...Deno.args];
  const flag = args.indexOf("-c");
  const count = flag === -1 ? 4 : Number(args.splice(flag, 2)[1]);
  for (const line of await demo(args.length > 0 ? args : undefined, count, 1000)) {
    console.log(line);
  }
}
