import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { demo as unixEcho } from "../examples/ipc_unix_echo.ts";
import { demo as unixWebServer } from "../examples/unix_web_server.ts";
import { demo as tcpEcho } from "../examples/tcp_echo.ts";
import { demo as udpEcho } from "../examples/udp_echo.ts";
import { demo as multicast } from "../examples/multicast.ts";
import { demo as ping } from "../examples/ping.ts";
import { demo as spawnPipeline } from "../examples/spawn_pipeline.ts";
import { demo as spawnFiles } from "../examples/spawn_files.ts";
import { demo as timers } from "../examples/timers.ts";
import { demo as selectServer } from "../examples/select_server.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));

/** Fails with every line shown unless some line matches. */
function hasLine(lines: string[], expected: string | RegExp): void {
  const found = lines.some((line) =>
    typeof expected === "string" ? line === expected : expected.test(line)
  );
  assert.ok(found, `no line matches ${expected} in:\n${lines.join("\n")}`);
}

Deno.test("examples/ipc_unix_echo.ts removes the stale path, listens with mode 600 and echoes ping", async () => {
  const lines = await unixEcho();
  assert.deepEqual(lines, [
    "a crashed server left run/ward-echo.sock behind",
    "listening again (stale path removed), mode 600",
    '{"response":"ping"}',
    "listener closed, socket path removed",
  ]);
});

Deno.test("examples/unix_web_server.ts serves routes over a unix socket and removes it on shutdown", async () => {
  const lines = await unixWebServer();
  assert.deepEqual(lines, [
    "serving on var/server.sock (mode 660)",
    "GET / -> 200 netkit web server on a unix socket",
    'GET /hello -> 200 {"hello":"racket"}',
    "POST /echo -> 200 posted body",
    "GET /missing -> 404 not found",
    "server shut down, socket path removed",
  ]);
});

Deno.test("examples/tcp_echo.ts echoes each line over IPv4 and IPv6 and ends with half-close", async () => {
  const lines = await tcpEcho();
  assert.equal(lines.length, 4, lines.join("\n"));
  hasLine(lines, /^tcp IPv4 127\.0\.0\.1:\d+ -> echo: hello$/);
  hasLine(lines, /^tcp IPv4 127\.0\.0\.1:\d+ -> echo: from IPv4$/);
  hasLine(lines, /^tcp IPv6 \[::1\]:\d+ -> echo: hello$/);
  hasLine(lines, /^tcp IPv6 \[::1\]:\d+ -> echo: from IPv6$/);
  assert.ok(!lines.some((line) => line.includes("unexpected")), lines.join("\n"));
});

Deno.test("examples/udp_echo.ts gets each datagram echoed by the server", async () => {
  const lines = await udpEcho();
  assert.equal(lines.length, 3, lines.join("\n"));
  for (const word of ["hello", "over", "udp"]) {
    hasLine(lines, new RegExp(`^udp: echo: ${word} \\(from 127\\.0\\.0\\.1:\\d+\\)$`));
  }
});

Deno.test("examples/multicast.ts delivers three announcements to the group member on loopback", async () => {
  const lines = await multicast();
  assert.equal(lines.length, 3, lines.join("\n"));
  for (const n of [1, 2, 3]) {
    hasLine(
      lines,
      new RegExp(
        `^multicast 239\\.255\\.42\\.1: announcement ${n} \\(from 127\\.0\\.0\\.1:\\d+\\)$`,
      ),
    );
  }
});

Deno.test("examples/ping.ts gets every echo reply from 127.0.0.1 and ::1 (root: a raw socket)", async () => {
  const lines = await ping(["127.0.0.1", "::1"], 2);
  if (Deno.uid() !== 0) {
    // Unprivileged, a ping socket works only where ping_group_range allows the group.
    if (lines.length === 1) return assert.match(lines[0], /^ping skipped: access_denied/);
  }
  for (const host of ["127.0.0.1", "::1"]) {
    hasLine(
      lines,
      new RegExp(`^PING ${host.replaceAll(".", "\\.")}: 56 data bytes \\((raw|ping) socket\\)$`),
    );
    for (const sequence of [1, 2]) {
      hasLine(
        lines,
        new RegExp(
          `^64 bytes from ${
            host.replaceAll(".", "\\.")
          }: icmp_seq=${sequence}( ttl=\\d+)? time=\\d+\\.\\d{3} ms$`,
        ),
      );
    }
    hasLine(lines, `--- ${host} ping statistics ---`);
  }
  assert.equal(
    lines.filter((line) => line === "2 packets transmitted, 2 received, 0% packet loss").length,
    2,
    lines.join("\n"),
  );
});

Deno.test("examples/spawn_pipeline.ts runs seq | awk, a fd 3 report and a socketpair child", async () => {
  const lines = await spawnPipeline();
  assert.deepEqual(lines, [
    "pipeline: seq 1 100 | awk sum = 5050",
    'pipeline: statuses {"exited":0} {"exited":0}',
    "fd 3: step 1, step 2, step 3; stdout: result 42",
    "socketpair: HELLO OVER A SOCKETPAIR",
    'socketpair: child {"exited":0}',
  ]);
});

Deno.test("examples/spawn_files.ts maps a parent fd number and a pipe end into the child", async () => {
  const lines = await spawnFiles();
  assert.equal(lines.length, 4, lines.join("\n"));
  assert.equal(lines[0], "writer closed in the parent after spawn: true");
  assert.equal(lines[1], "child's fd 2 (the pipe): stderr line");
  assert.equal(lines[2], 'child status: {"exited":0}');
  assert.match(
    lines[3],
    /^child's fd 1 \(our fd \d+, child\.log\): hello from xpio; cwd holds child\.log$/,
  );
});

Deno.test("examples/timers.ts orders one-shot timers by due time, wakes the worker on the third tick and says the same on the real clock", async () => {
  assert.deepEqual(await timers(), [
    "manual clock (exact, instant):",
    "+10 ms  runAfter(10) fires",
    "+20 ms  runAt(+20) cancels the +30 timer: true",
    "+30 ms  sleepUntil(+30) wakes; the cancelled timer is active: false",
    "+30 ms  worker sleeps on a sleep job until woken",
    "+40 ms  runEvery(10) tick 1",
    "+50 ms  runEvery(10) tick 2",
    "+60 ms  runEvery(10) tick 3 wakes the worker: true",
    '+60 ms  worker woken with ["tick 3"]',
    "+65 ms  worker slept 5 ms more",
    "+65 ms  worker finished: done",
    "+65 ms  run returns; ticker active: false; timers queued: 0",
    "real clock: the same 11 events in the same order: true; none earlier: true",
  ]);
});

Deno.test("examples/select_server.ts serves three clients from one select loop", async () => {
  const lines = await selectServer();
  for (const name of ["alice", "bob", "carol"]) {
    const upper = name.toUpperCase();
    hasLine(lines, `${name} got: HELLO FROM ${upper} | BYE FROM ${upper}`);
  }
  hasLine(lines, "server: client 3 done, 0 still connected");
});

Deno.test("deno task demo runs every module, exits 0 and leaves nothing behind", async () => {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["task", "demo"],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(stdout);
  const report = `${out}\n--- stderr ---\n${new TextDecoder().decode(stderr)}`;
  assert.equal(code, 0, report);
  for (const module of ["unix", "tcp", "udp", "process", "scheduler"]) {
    assert.match(out, new RegExp(`^## ${module} — `, "m"), report);
  }
  assert.ok(!out.includes("FAILED"), report);
  assert.match(out, / {2}\{"response":"ping"\}/, report);
  assert.match(out, / {2}tcp IPv6 \[::1\]:\d+ -> echo: from IPv6/, report);
  assert.match(out, / {2}connected filter: first datagram received is "from the peer"/, report);
  assert.match(out, / {2}pipeline: seq 1 100 \| awk sum = 5050/, report);
  assert.match(out, / {2}carol got: HELLO FROM CAROL \| BYE FROM CAROL/, report);
  assert.match(out, /all modules ran; no temporary file left behind\n$/, report);
});
