/**
 * Kernel-connected UDP (the suite runs with -A, so `--allow-ffi` is
 * granted): connect(2) on the descriptor, ICMP errors on the next (or the
 * pending) receive or send, the kernel's filter, disconnect keeping the
 * port, and nothing lost or duplicated under load.
 */
import assert from "node:assert/strict";
import { bind, connect, type UdpSocket } from "../udp/mod.ts";
import { pollable } from "../mod.ts";
import { rejectsWith, text } from "./_udp_helpers.ts";

const HOST = "127.0.0.1";

/** A port nobody listens on: bound, then closed (the kernel answers ICMP port unreachable). */
async function closedPort(hostname: string): Promise<number> {
  const socket = await bind({ hostname });
  const port = socket.addr.port;
  await socket[Symbol.asyncDispose]();
  return port;
}

Deno.test("connection_refused on the pending receive after sending to a closed port, not a timeout", async () => {
  const port = await closedPort(HOST);
  await using socket = await connect(HOST, port);
  const pending = socket.receive({ timeout: 10_000 });
  await socket.send("anyone there?");
  const error = await rejectsWith(pending, "connection_refused");
  assert.equal(error.op, "receive");
  assert.match(error.message, /ICMP port unreachable/);
  // Reported once: the socket is usable and nothing else is pending.
  await rejectsWith(socket.receive({ timeout: 50 }), "timeout");
});

Deno.test("connection_refused on a receive started after the ICMP error came back (IPv4 and IPv6)", async () => {
  for (const hostname of [HOST, "::1"]) {
    const port = await closedPort(hostname);
    await using socket = await connect(hostname, port);
    await socket.send("ping");
    await socket[pollable]().waitRead(); // the error is there: a receive would not wait
    const error = await rejectsWith(socket.receive({ timeout: 10_000 }), "connection_refused");
    assert.equal(error.op, "receive");
  }
});

Deno.test("the error goes to whichever comes first: a send reports it and the receive does not again", async () => {
  const port = await closedPort(HOST);
  await using socket = await connect(HOST, port);
  await socket.send("one");
  // Wait for the error without taking it: select-style readiness says a receive would not wait.
  await socket[pollable]().waitRead();
  const error = await rejectsWith(socket.send("two"), "connection_refused");
  assert.equal(error.op, "send");
  await rejectsWith(socket.receive({ timeout: 50 }), "timeout");
});

Deno.test("a kernel-connected socket: third-party datagrams never reach its queue", async () => {
  await using peer = await bind({ hostname: HOST });
  await using stranger = await bind({ hostname: HOST });
  await using socket = await connect(HOST, peer.addr.port, { hostname: HOST });
  assert.equal(socket.getOption("so_error"), null);
  // No receive is in flight: a datagram the kernel let in would wait in the queue.
  await stranger.sendTo("not for you", HOST, socket.addr.port);
  socket.disconnect();
  await peer.sendTo("after", HOST, socket.addr.port);
  const got = await socket.receive({ timeout: 2000 });
  assert.equal(text(got.data), "after");
  assert.equal(got.port, peer.addr.port);
});

Deno.test("disconnect receives from anyone again and keeps the port the kernel chose", async () => {
  await using peer = await bind({ hostname: HOST });
  await using stranger = await bind({ hostname: HOST });
  await using socket = await connect(HOST, peer.addr.port); // bound to 0.0.0.0, port 0
  const port = socket.addr.port;
  await socket.send("hello");
  assert.equal(text((await peer.receive({ timeout: 2000 })).data), "hello");
  socket.disconnect();
  assert.equal(socket.remoteAddr, null);
  assert.equal(socket.addr.port, port);
  // The same port: a stranger sending there is received, and sendTo goes out from it.
  await stranger.sendTo("hi", HOST, port);
  const got = await socket.receive({ timeout: 2000 });
  assert.equal(text(got.data), "hi");
  assert.equal(got.port, stranger.addr.port);
  await socket.sendTo("back", HOST, stranger.addr.port);
  assert.equal((await stranger.receive({ timeout: 2000 })).port, port);
  // Connected again, and dissolved again: still the same port.
  await socket.connect(HOST, peer.addr.port);
  await socket.send("again");
  assert.equal((await peer.receive({ timeout: 2000 })).port, port);
  socket.disconnect();
  await stranger.sendTo("still", HOST, port);
  assert.equal(text((await socket.receive({ timeout: 2000 })).data), "still");
});

Deno.test("disconnect keeps a port that was asked for; an ICMP error after it is not reported", async () => {
  const wanted = await closedPort(HOST);
  await using socket = await bind({ hostname: HOST, port: wanted });
  const target = await closedPort(HOST);
  await socket.connect(HOST, target);
  socket.disconnect();
  await using stranger = await bind({ hostname: HOST });
  await stranger.sendTo("x", HOST, wanted);
  assert.equal(text((await socket.receive({ timeout: 2000 })).data), "x");
  // Unconnected: a send to a closed port raises nothing (no connected socket gets ICMP errors).
  await socket.sendTo("y", HOST, target);
  await socket.sendTo("z", HOST, target);
  await rejectsWith(socket.receive({ timeout: 50 }), "timeout");
});

Deno.test("re-targeting a kernel-connected socket: the new peer's datagrams only, and its errors", async () => {
  await using first = await bind({ hostname: HOST });
  await using second = await bind({ hostname: HOST });
  await using socket = await connect(HOST, first.addr.port);
  await socket.connect(HOST, second.addr.port);
  await first.sendTo("old", HOST, socket.addr.port);
  await second.sendTo("new", HOST, socket.addr.port);
  const got = await socket.receive({ timeout: 2000 });
  assert.equal(text(got.data), "new");
  assert.equal(got.port, second.addr.port);
  const port = await closedPort(HOST);
  await socket.connect(HOST, port);
  const pending = socket.receive({ timeout: 10_000 });
  await socket.send("x");
  await rejectsWith(pending, "connection_refused");
});

Deno.test("a dual-stack socket connects to an IPv4 peer in ::ffff: form; refused there too", async () => {
  await using peer = await bind({ hostname: HOST });
  await using socket = await connect("::ffff:127.0.0.1", peer.addr.port, { hostname: "::" });
  await socket.send("v4 via v6");
  const request = await peer.receive({ timeout: 2000 });
  await peer.sendTo("reply", request.hostname, request.port);
  const reply = await socket.receive({ timeout: 2000 });
  assert.equal(text(reply.data), "reply");
  assert.equal(reply.hostname, HOST);
  const port = await closedPort(HOST);
  await socket.connect(HOST, port);
  const pending = socket.receive({ timeout: 10_000 });
  await socket.send("x");
  await rejectsWith(pending, "connection_refused");
});

Deno.test("an error that arrives while a datagram waits: the datagram first, then the error", async () => {
  const peer = await bind({ hostname: HOST });
  const port = peer.addr.port;
  await using socket = await connect(HOST, port);
  await peer.sendTo("last words", HOST, socket.addr.port);
  await socket[pollable]().waitRead(); // the datagram landed in netkit's slot
  await peer[Symbol.asyncDispose](); // nobody listens on the peer's port now
  await socket.send("x");
  const next = await socket.receive({ peek: true, timeout: 2000 });
  assert.equal(text(next.data), "last words");
  assert.equal(text((await socket.receive({ timeout: 2000 })).data), "last words");
  await rejectsWith(socket.receive({ timeout: 10_000 }), "connection_refused");
});

Deno.test("close during a pending receive of a kernel-connected socket rejects closed; awaiting it leaves nothing running", async () => {
  await using peer = await bind({ hostname: HOST });
  const socket = await connect(HOST, peer.addr.port);
  const pending = socket.receive();
  socket.close();
  await rejectsWith(pending, "closed");
  await rejectsWith(socket.send("x"), "closed");
  await rejectsWith(socket.receive({ peek: true }), "closed");
  socket.disconnect(); // harmless once closed
  // A connected socket that never waited for a receive has no watcher: close() alone is enough.
  const sender = await connect(HOST, peer.addr.port);
  await sender.send("only sending");
  sender.close();
  // One whose receives waited: asyncDispose (await using) waits until the watcher let go.
  const used = await connect(HOST, peer.addr.port);
  await rejectsWith(used.receive({ timeout: 5 }), "timeout");
  await used[Symbol.asyncDispose]();
});

/** Ping-pong `count` numbered datagrams with `window` in flight; returns the numbers echoed, in order. */
async function pingPong(client: UdpSocket, count: number, window: number): Promise<number[]> {
  const got: number[] = [];
  const payload = new Uint8Array(4);
  const view = new DataView(payload.buffer);
  let sent = 0;
  while (sent < window && sent < count) {
    view.setUint32(0, sent++);
    await client.send(payload);
  }
  while (got.length < count) {
    const { data } = await client.receive({ timeout: 10_000 });
    got.push(new DataView(data.buffer, data.byteOffset).getUint32(0));
    if (sent < count) {
      view.setUint32(0, sent++);
      await client.send(payload);
    }
  }
  return got;
}

Deno.test("under load: 10,000 datagrams, 16 in flight, through a kernel-connected socket: none lost, none duplicated", async () => {
  await using server = await bind({ hostname: HOST });
  await using stranger = await bind({ hostname: HOST });
  await using client = await connect(HOST, server.addr.port, { hostname: HOST });
  const count = 10_000;
  const echo = (async () => {
    for (let i = 0; i < count; i++) {
      const { data, hostname, port } = await server.receive({ timeout: 10_000 });
      await server.sendTo(data, hostname, port);
      // A stranger's datagram now and then: the kernel drops it.
      if (i % 1000 === 0) await stranger.sendTo("noise", HOST, client.addr.port);
    }
  })();
  const got = await pingPong(client, count, 16);
  await echo;
  assert.equal(got.length, count);
  assert.deepEqual(got, Array.from({ length: count }, (_, i) => i));
  await rejectsWith(client.receive({ timeout: 20 }), "timeout");
});

interface Outcome {
  value?: unknown;
  code?: string;
  field?: string | null;
  message?: string;
}

Deno.test("without --allow-ffi: the userland filter as before, and not_supported naming the flag", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--unstable-net",
      "--allow-net",
      new URL("./_udp_noffi_child.ts", import.meta.url).pathname,
    ],
    cwd: new URL("..", import.meta.url).pathname,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  const report = JSON.parse(new TextDecoder().decode(output.stdout)) as Record<string, unknown>;
  assert.deepEqual(report.filtered, { data: "peer", fromPeer: true });
  assert.equal(report.afterDisconnect, "anyone");
  assert.deepEqual(report.peek, ["peeked", "peeked"]);
  assert.equal((report.closedPort as Outcome).code, "timeout");
  for (
    const [key, field] of [
      ["broadcastFalse", "broadcast"],
      ["v6TtlBind", "multicastTTL"],
      ["sendInterfaceBind", "multicastInterface"],
      ["v6Ttl", null],
      ["sendInterface", null],
    ] as const
  ) {
    const outcome = report[key] as Outcome;
    assert.equal(outcome.code, "not_supported", `${key}: ${JSON.stringify(outcome)}`);
    assert.match(outcome.message!, /--allow-ffi/, key);
    if (field !== null) assert.equal(outcome.field, field, key);
  }
  assert.equal((report.broadcastBad as Outcome).code, "invalid_argument");
  assert.equal((report.broadcastBad as Outcome).field, "broadcast");
  assert.equal((report.sendInterfaceBad as Outcome).code, "invalid_argument");
  assert.equal((report.sendInterfaceBad as Outcome).field, "iface");
  assert.deepEqual(report.v4Ttl, { value: null });
  assert.equal(report.joinedWithInterface, 1);
});
