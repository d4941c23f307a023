/**
 * netkit's tour: `deno task demo` (or `deno run -A examples/demo.ts`).
 *
 * Every module runs for real, through the runnable samples in `examples/`:
 * a unix echo server with permissions and stale-path cleanup and a web
 * server on a unix socket, TCP echo with half-close, TLS echo and a
 * STARTTLS upgrade, UDP echo, a connected socket's receive filter and
 * multicast, a raw-socket ping of 127.0.0.1 and ::1, a process pipeline and a file map,
 * timers and a select loop. Each sample cleans up what it creates (temporary
 * directories, sockets, children). A failing section is reported and makes
 * the tour exit with code 1; the other sections still run.
 *
 * @module
 */

import { bind, connect } from "../udp/mod.ts";
import { NetError, VERSION } from "../mod.ts";
import { demo as unixEcho } from "./ipc_unix_echo.ts";
import { demo as unixWebServer } from "./unix_web_server.ts";
import { demo as tcpEcho } from "./tcp_echo.ts";
import { demo as tlsEcho } from "./tls_echo.ts";
import { demo as starttls } from "./starttls.ts";
import { demo as udpEcho } from "./udp_echo.ts";
import { demo as multicast } from "./multicast.ts";
import { demo as ping } from "./ping.ts";
import { demo as spawnPipeline } from "./spawn_pipeline.ts";
import { demo as spawnFiles } from "./spawn_files.ts";
import { demo as timers } from "./timers.ts";
import { demo as selectServer } from "./select_server.ts";

/** A connected UDP socket receives only from its peer (sock's `udp:connect`). */
async function udpFilter(): Promise<string[]> {
  const decoder = new TextDecoder();
  await using peer = await bind({ hostname: "127.0.0.1", port: 0 });
  await using stranger = await bind({ hostname: "127.0.0.1", port: 0 });
  await using client = await connect("127.0.0.1", peer.addr.port);
  const port = client.addr.port;
  await stranger.sendTo("from a stranger", "127.0.0.1", port); // sent first, dropped
  await peer.sendTo("from the peer", "127.0.0.1", port);
  const first = await client.receive({ timeout: 2000 });
  const lines = [`connected filter: first datagram received is "${decoder.decode(first.data)}"`];
  client.disconnect();
  await stranger.sendTo("stranger again", "127.0.0.1", port);
  const next = await client.receive({ timeout: 2000 });
  lines.push(`after disconnect(): "${decoder.decode(next.data)}" gets through`);
  return lines;
}

/** Multicast needs a multicast route on loopback; say so instead of failing where there is none. */
async function multicastOrSkip(): Promise<string[]> {
  try {
    return await multicast();
  } catch (error) {
    if (error instanceof NetError && error.code !== "invalid_argument") {
      return [`multicast skipped on this machine: ${error.code} (${error.message})`];
    }
    throw error;
  }
}

const sections: [title: string, steps: (() => Promise<string[]>)[]][] = [
  ["unix — Ward's echo sample, Racket's web server on a socket", [unixEcho, unixWebServer]],
  ["tcp — lsocket's echo sample with half-close, IPv4 and IPv6", [tcpEcho]],
  ["tls — an echo over TLS with a run-time certificate, a STARTTLS upgrade", [tlsEcho, starttls]],
  ["udp — lsocket's echo sample, sock's connected filter, multicast, sock's raw ping", [
    udpEcho,
    udpFilter,
    multicastOrSkip,
    // Needs --allow-ffi and CAP_NET_RAW (or ping_group_range); says so in one line otherwise.
    () => ping(["127.0.0.1", "::1"], 2),
  ]],
  ["process — XPIO's pipe, fd 3, socketpair and file map", [spawnPipeline, spawnFiles]],
  ["scheduler — sock's timers and sleep jobs, lsocket's select loop", [timers, selectServer]],
];

/** The temporary entries netkit's samples make (they all start with `netkit-`). */
async function netkitTempEntries(): Promise<Set<string>> {
  const dir = Deno.env.get("TMPDIR") || "/tmp";
  const names = new Set<string>();
  for await (const entry of Deno.readDir(dir)) {
    if (entry.name.startsWith("netkit-")) names.add(entry.name);
  }
  return names;
}

console.log(`netkit ${VERSION} on Deno ${Deno.version.deno}: a tour of every module`);
const before = await netkitTempEntries();
let failed = 0;
for (const [title, steps] of sections) {
  console.log(`\n## ${title}`);
  for (const step of steps) {
    try {
      for (const line of await step()) console.log(`  ${line}`);
    } catch (error) {
      failed++;
      console.log(`  FAILED: ${error instanceof Error ? error.stack ?? error.message : error}`);
    }
  }
}
const left = [...await netkitTempEntries()].filter((name) => !before.has(name));
if (left.length > 0) {
  failed++;
  console.log(`\nleft behind in the temporary directory: ${left.join(", ")}`);
}
console.log(
  failed === 0 ? "\nall modules ran; no temporary file left behind" : `\n${failed} failure(s)`,
);
if (failed > 0) Deno.exitCode = 1;
