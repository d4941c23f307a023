import assert from "node:assert/strict";
import { bind, connect } from "../udp/mod.ts";
import { rejectsWith, text } from "./_udp_helpers.ts";

const HOST = "127.0.0.1";

Deno.test("a connected socket sends to its peer and drops a third socket's datagrams", async () => {
  await using peer = await bind({ hostname: HOST });
  await using stranger = await bind({ hostname: HOST });
  await using socket = await connect(HOST, peer.addr.port);
  assert.deepEqual(socket.remoteAddr, { transport: "udp", hostname: HOST, port: peer.addr.port });
  await socket.send("hello");
  const request = await peer.receive({ timeout: 2000 });
  assert.equal(text(request.data), "hello");
  const socketPort = request.port;
  await stranger.sendTo("intruder", HOST, socketPort);
  await peer.sendTo("reply", HOST, socketPort);
  const got = await socket.receive({ timeout: 2000 });
  assert.equal(text(got.data), "reply");
  assert.equal(got.port, peer.addr.port);
  await rejectsWith(socket.receive({ timeout: 150 }), "timeout");
  // Unfiltered again: the stranger now gets through.
  socket.disconnect();
  assert.equal(socket.remoteAddr, null);
  await rejectsWith(socket.send("x"), "invalid_argument");
  await stranger.sendTo("now welcome", HOST, socketPort);
  assert.equal(text((await socket.receive({ timeout: 2000 })).data), "now welcome");
});

Deno.test("connect re-targets: the old peer is filtered out, the new one gets send", async () => {
  await using first = await bind({ hostname: HOST });
  await using second = await bind({ hostname: HOST });
  await using socket = await bind({ hostname: HOST });
  await socket.connect(HOST, first.addr.port);
  await first.sendTo("buffered from first", HOST, socket.addr.port);
  // Buffered while connected to `first`, dropped once re-targeted.
  await socket.connect(HOST, second.addr.port);
  await socket.send("to second");
  assert.equal(text((await second.receive({ timeout: 2000 })).data), "to second");
  await first.sendTo("from first", HOST, socket.addr.port);
  await second.sendTo("from second", HOST, socket.addr.port);
  assert.equal(text((await socket.receive({ timeout: 2000 })).data), "from second");
});

Deno.test("a ::-bound connected socket matches an IPv4 peer given in ::ffff: form", async () => {
  await using peer = await bind({ hostname: HOST });
  await using socket = await connect("::ffff:127.0.0.1", peer.addr.port, { hostname: "::" });
  assert.equal(socket.addr.hostname, "::");
  await socket.send("via mapped");
  const request = await peer.receive({ timeout: 2000 });
  assert.equal(text(request.data), "via mapped");
  await peer.sendTo("back", request.hostname, request.port);
  const got = await socket.receive({ timeout: 2000 });
  assert.equal(text(got.data), "back");
  assert.equal(got.hostname, HOST);
});

Deno.test("a ::-bound socket reports IPv4 senders in IPv4 form and can reply to them", async () => {
  await using dual = await bind({ hostname: "::" });
  await using v4 = await bind({ hostname: HOST });
  await v4.sendTo("ping", HOST, dual.addr.port);
  const got = await dual.receive({ timeout: 2000 });
  assert.equal(got.hostname, HOST);
  await dual.sendTo("pong", got.hostname, got.port);
  assert.equal(text((await v4.receive({ timeout: 2000 })).data), "pong");
});

Deno.test("connect resolves host names and binds the matching family", async () => {
  await using peer = await bind({ hostname: HOST });
  await using socket = await connect("localhost", peer.addr.port, { timeout: 2000 });
  assert.equal(socket.remoteAddr?.hostname, HOST);
  assert.equal(socket.addr.hostname, "0.0.0.0");
  await using v6peer = await bind({ hostname: "::1" });
  await using v6 = await connect("[::1]", v6peer.addr.port);
  assert.equal(v6.addr.hostname, "::");
  await v6.send("six");
  assert.equal(text((await v6peer.receive({ timeout: 2000 })).data), "six");
});

Deno.test("connect rejects bad input naming the field", async () => {
  await rejectsWith(connect(HOST, 0), "invalid_argument", "port");
  await rejectsWith(connect(HOST, 65536), "invalid_argument", "port");
  await rejectsWith(connect("", 9), "invalid_argument", "host");
  await rejectsWith(connect("bad host!", 9), "invalid_argument", "host");
  await rejectsWith(connect(HOST, 9, { ttl: 1 } as never), "invalid_argument", "ttl");
  await rejectsWith(connect("::1", 9, { hostname: HOST }), "invalid_argument", "host");
  await rejectsWith(
    connect("name.invalid", 9, { timeout: 5000 }),
    "name_not_resolved",
  );
});
