import assert from "node:assert/strict";
import { bind, bindUnix } from "../udp/mod.ts";
import { tempDir } from "./_unix_util.ts";
import { pollable } from "../mod.ts";
import { rejectsWith, text } from "./_udp_helpers.ts";

const HOST = "127.0.0.1";

Deno.test("a timed-out receive loses nothing: 3 later datagrams come out of 3 receives in order", async () => {
  await using receiver = await bind({ hostname: HOST });
  await using sender = await bind({ hostname: HOST });
  await rejectsWith(receiver.receive({ timeout: 20 }), "timeout");
  for (const word of ["one", "two", "three"]) {
    await sender.sendTo(word, HOST, receiver.addr.port);
  }
  const got = [];
  for (let i = 0; i < 3; i++) got.push(text((await receiver.receive({ timeout: 2000 })).data));
  assert.deepEqual(got, ["one", "two", "three"]);
});

Deno.test("concurrent receives get datagrams in arrival order", async () => {
  await using receiver = await bind({ hostname: HOST });
  await using sender = await bind({ hostname: HOST });
  const waiting = [receiver.receive(), receiver.receive(), receiver.receive()];
  for (const word of ["a", "b", "c"]) await sender.sendTo(word, HOST, receiver.addr.port);
  assert.deepEqual((await Promise.all(waiting)).map((d) => text(d.data)), ["a", "b", "c"]);
});

Deno.test("an aborted receive rejects aborted and loses nothing", async () => {
  await using receiver = await bind({ hostname: HOST });
  const controller = new AbortController();
  const waiting = receiver.receive({ signal: controller.signal });
  controller.abort(new Error("stop"));
  const error = await rejectsWith(waiting, "aborted");
  assert.equal((error.cause as Error).message, "stop");
  await receiver.sendTo("kept", HOST, receiver.addr.port);
  assert.equal(text((await receiver.receive({ timeout: 2000 })).data), "kept");
});

Deno.test("close unblocks a pending receive with closed; receive after close is closed; close twice is harmless", async () => {
  const socket = await bind({ hostname: HOST });
  const waiting = socket.receive();
  socket.close();
  await rejectsWith(waiting, "closed");
  socket.close();
  assert.equal(socket.closed, true);
  await rejectsWith(socket.receive(), "closed");
  await rejectsWith(socket.sendTo("x", HOST, 9), "closed");
  await socket[Symbol.asyncDispose]();
});

Deno.test("an empty datagram is received as zero-length data with its sender", async () => {
  await using receiver = await bind({ hostname: HOST });
  await using sender = await bind({ hostname: HOST });
  assert.equal(await sender.sendTo(new Uint8Array(0), HOST, receiver.addr.port), 0);
  const got = await receiver.receive({ timeout: 2000 });
  assert.equal(got.data.length, 0);
  assert.equal(got.port, sender.addr.port);
});

Deno.test("the largest datagrams (65507 B over IPv4, 65527 B over IPv6) are received whole; one more byte is invalid_argument", async () => {
  for (const [host, max] of [["127.0.0.1", 65507], ["::1", 65527]] as const) {
    await using receiver = await bind({ hostname: host });
    await using sender = await bind({ hostname: host });
    const big = new Uint8Array(max).map((_, i) => i * 7);
    assert.equal(await sender.sendTo(big, host, receiver.addr.port), max);
    const got = await receiver.receive({ timeout: 2000 });
    assert.equal(got.truncated, false);
    assert.deepEqual(got.data, big);
    const error = await rejectsWith(
      sender.sendTo(new Uint8Array(max + 1), host, receiver.addr.port),
      "invalid_argument",
      "data",
    );
    assert.match(error.message, new RegExp(`at most ${max} bytes`));
  }
});

Deno.test("strings are sent UTF-8 encoded", async () => {
  await using socket = await bind({ hostname: HOST });
  await socket.sendTo("héllo ✓", HOST, socket.addr.port);
  const got = await socket.receive({ timeout: 2000 });
  assert.equal(got.data.length, new TextEncoder().encode("héllo ✓").length);
  assert.equal(text(got.data), "héllo ✓");
});

Deno.test("send on an unconnected socket is invalid_argument pointing at sendTo", async () => {
  await using socket = await bind({ hostname: HOST });
  const error = await rejectsWith(socket.send("x"), "invalid_argument");
  assert.match(error.message, /sendTo/);
});

Deno.test("sendTo an IPv6 address from an IPv4 socket (and back) is invalid_argument naming host", async () => {
  await using v4 = await bind({ hostname: HOST });
  await using v6 = await bind({ hostname: "::1" });
  await rejectsWith(v4.sendTo("x", "::1", v6.addr.port), "invalid_argument", "host");
  await rejectsWith(v6.sendTo("x", HOST, v4.addr.port), "invalid_argument", "host");
});

Deno.test("sendTo rejects bad ports, hosts, data and options", async () => {
  await using socket = await bind({ hostname: HOST });
  for (const port of [0, 70000, -1, 1.5]) {
    await rejectsWith(socket.sendTo("x", HOST, port), "invalid_argument", "port");
  }
  await rejectsWith(socket.sendTo("x", "", 9), "invalid_argument", "host");
  await rejectsWith(socket.sendTo("x", "no such host!", 9), "invalid_argument", "host");
  // Bad input is reported as such even when the deadline has already passed.
  await rejectsWith(
    socket.sendTo("x", "no such host!", 9, { timeout: 0 }),
    "invalid_argument",
    "host",
  );
  await rejectsWith(socket.sendTo(42 as never, HOST, 9), "invalid_argument", "data");
  await rejectsWith(
    socket.sendTo("x", HOST, 9, { timeout: -1 }),
    "invalid_argument",
    "timeout",
  );
  await rejectsWith(socket.receive({ wait: 1 } as never), "invalid_argument", "wait");
});

Deno.test("sendTo resolves host names", async () => {
  await using socket = await bind({ hostname: HOST });
  await socket.sendTo("by name", "localhost", socket.addr.port);
  assert.equal(text((await socket.receive({ timeout: 2000 })).data), "by name");
});

Deno.test("10k datagrams paced by acknowledgements all arrive on loopback", async () => {
  await using receiver = await bind({ hostname: HOST });
  await using sender = await bind({ hostname: HOST });
  const TOTAL = 10_000;
  const WINDOW = 100;
  let counted = 0;
  let outOfOrder = 0;
  const counting = (async () => {
    let expected = 0;
    while (counted < TOTAL) {
      const { data, hostname, port } = await receiver.receive({ timeout: 5000 });
      const sequence = new DataView(data.buffer, data.byteOffset).getUint32(0);
      if (sequence !== expected) outOfOrder++;
      expected = sequence + 1;
      counted++;
      if (counted % WINDOW === 0) await receiver.sendTo("ack", hostname, port);
    }
  })();
  const payload = new Uint8Array(64);
  const view = new DataView(payload.buffer);
  for (let sent = 0; sent < TOTAL;) {
    for (let i = 0; i < WINDOW; i++, sent++) {
      view.setUint32(0, sent);
      await sender.sendTo(payload, HOST, receiver.addr.port);
    }
    await sender.receive({ timeout: 5000 });
  }
  await counting;
  assert.equal(counted, TOTAL, `lost ${TOTAL - counted}`);
  assert.equal(outOfOrder, 0);
});

Deno.test("async iteration yields datagrams and ends when the socket closes", async () => {
  const socket = await bind({ hostname: HOST });
  await socket.sendTo("first", HOST, socket.addr.port);
  await socket.sendTo("second", HOST, socket.addr.port);
  const seen: string[] = [];
  for await (const { data } of socket) {
    seen.push(text(data));
    if (seen.length === 2) setTimeout(() => socket.close(), 0);
  }
  assert.deepEqual(seen, ["first", "second"]);
  await socket[Symbol.asyncDispose]();
});

Deno.test("pollable reports readable when a datagram is buffered and waiting consumes nothing", async () => {
  await using socket = await bind({ hostname: HOST });
  const ready = socket[pollable]();
  assert.equal(ready.pollRead(), false);
  assert.equal(ready.pollWrite(), true);
  const waiting = ready.waitRead();
  await socket.sendTo("ready", HOST, socket.addr.port);
  await waiting;
  assert.equal(ready.pollRead(), true);
  await ready.waitRead();
  assert.equal(text((await socket.receive({ timeout: 0 + 1000 })).data), "ready");
  assert.equal(ready.pollRead(), false);
  socket.close();
  assert.equal(ready.closed, true);
  assert.equal(ready.pollRead(), true);
});

Deno.test("peek: the next datagram without consuming it; the next receive returns the same one", async () => {
  await using receiver = await bind({ hostname: HOST });
  await using sender = await bind({ hostname: HOST });
  await sender.sendTo("first", HOST, receiver.addr.port);
  await sender.sendTo("second", HOST, receiver.addr.port);
  const peeked = await receiver.receive({ peek: true, timeout: 2000 });
  const again = await receiver.receive({ peek: true });
  assert.equal(text(peeked.data), "first");
  assert.equal(text(again.data), "first");
  assert.equal(peeked.port, sender.addr.port);
  peeked.data[0] = 0; // the caller's copy: what the next receive returns is untouched
  const taken = await receiver.receive({ timeout: 2000 });
  assert.equal(text(taken.data), "first");
  assert.equal(taken.port, sender.addr.port);
  assert.equal(taken.truncated, false);
  assert.equal(text((await receiver.receive({ peek: false, timeout: 2000 })).data), "second");
});

Deno.test("peek that times out, or is aborted, loses nothing; a pending peek and a receive get the same datagram", async () => {
  await using receiver = await bind({ hostname: HOST });
  await using sender = await bind({ hostname: HOST });
  await rejectsWith(receiver.receive({ peek: true, timeout: 20 }), "timeout");
  const controller = new AbortController();
  const aborted = receiver.receive({ peek: true, signal: controller.signal });
  controller.abort();
  await rejectsWith(aborted, "aborted");
  const peeking = receiver.receive({ peek: true });
  const receiving = receiver.receive();
  await sender.sendTo("one", HOST, receiver.addr.port);
  await sender.sendTo("two", HOST, receiver.addr.port);
  assert.equal(text((await peeking).data), "one");
  assert.equal(text((await receiving).data), "one");
  assert.equal(text((await receiver.receive({ timeout: 2000 })).data), "two");
});

Deno.test("peek: close wakes a pending peek with closed; a bad peek is invalid_argument naming peek, closed or not", async () => {
  const socket = await bind({ hostname: HOST });
  await rejectsWith(socket.receive({ peek: "yes" as never }), "invalid_argument", "peek");
  await rejectsWith(socket.receive({ peek: 1 as never, timeout: 5 }), "invalid_argument", "peek");
  await rejectsWith(socket.receive({ peak: true } as never), "invalid_argument", "peak");
  const waiting = socket.receive({ peek: true });
  socket.close();
  await rejectsWith(waiting, "closed");
  await rejectsWith(socket.receive({ peek: true }), "closed");
  await rejectsWith(socket.receive({ peek: "yes" as never }), "invalid_argument", "peek");
  await socket[Symbol.asyncDispose]();
});

Deno.test("peek on a unix datagram socket, and an empty datagram peeked", async () => {
  await using dir = await tempDir();
  await using server = await bindUnix(`${dir.path}/server.sock`);
  await using client = await bindUnix(`${dir.path}/client.sock`);
  await client.sendTo("hello", server.path);
  await client.sendTo(new Uint8Array(0), server.path);
  const peeked = await server.receive({ peek: true, timeout: 2000 });
  assert.equal(text(peeked.data), "hello");
  assert.equal(peeked.path, client.path);
  assert.equal(text((await server.receive({ timeout: 2000 })).data), "hello");
  assert.equal((await server.receive({ peek: true, timeout: 2000 })).data.length, 0);
  assert.equal((await server.receive({ timeout: 2000 })).data.length, 0);
});
