import assert from "node:assert/strict";
import { bindUnix } from "../udp/mod.ts";
import { pollable } from "../mod.ts";
import { rejectsWith, text } from "./_udp_helpers.ts";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "netkit-udp-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const exists = (path: string) => Deno.lstat(path).then(() => true, () => false);

Deno.test("bindUnix: a server replies to the path the client's datagram came from", () =>
  withDir(async (dir) => {
    await using server = await bindUnix(`${dir}/server.sock`);
    await using client = await bindUnix(`${dir}/client.sock`);
    assert.equal(server.addr.path, `${dir}/server.sock`);
    await client.sendTo("ping", server.path);
    const request = await server.receive({ timeout: 2000 });
    assert.equal(text(request.data), "ping");
    assert.equal(request.path, `${dir}/client.sock`);
    await server.sendTo("pong", request.path!);
    const reply = await client.receive({ timeout: 2000 });
    assert.equal(text(reply.data), "pong");
    assert.equal(reply.path, server.path);
  }));

Deno.test("bindUnix: an empty datagram is received as zero-length data", () =>
  withDir(async (dir) => {
    await using socket = await bindUnix(`${dir}/empty.sock`);
    assert.equal(await socket.sendTo(new Uint8Array(0), socket.path), 0);
    const got = await socket.receive({ timeout: 2000 });
    assert.equal(got.data.length, 0);
    assert.equal(got.path, socket.path);
  }));

Deno.test("bindUnix: close removes the path by default; unlinkOnClose false keeps it and the next bind removes the stale file", () =>
  withDir(async (dir) => {
    const path = `${dir}/life.sock`;
    const first = await bindUnix(path);
    assert.ok((await Deno.lstat(path)).isSocket);
    first.close();
    assert.equal(await exists(path), false);
    const kept = await bindUnix(path, { unlinkOnClose: false });
    kept.close();
    assert.ok((await Deno.lstat(path)).isSocket, "stale socket file left behind");
    await using again = await bindUnix(path);
    await again.sendTo("fresh", path);
    assert.equal(text((await again.receive({ timeout: 2000 })).data), "fresh");
    await kept[Symbol.asyncDispose]();
  }));

Deno.test("bindUnix: a live socket, a regular file, or unlink false keeps the path: address_in_use", () =>
  withDir(async (dir) => {
    await using live = await bindUnix(`${dir}/live.sock`);
    await rejectsWith(bindUnix(live.path), "address_in_use");
    live.close();
    await Deno.writeTextFile(`${dir}/file`, "not a socket");
    await rejectsWith(bindUnix(`${dir}/file`), "address_in_use");
    assert.equal(await Deno.readTextFile(`${dir}/file`), "not a socket");
    const stale = await bindUnix(`${dir}/stale.sock`, { unlinkOnClose: false });
    stale.close();
    await rejectsWith(bindUnix(`${dir}/stale.sock`, { unlink: false }), "address_in_use");
  }));

Deno.test("bindUnix: abstract names with @ bind and receive without a file", () =>
  withDir(async (dir) => {
    const name = `@netkit-udp-test-${crypto.randomUUID()}`;
    await using server = await bindUnix(name);
    await using client = await bindUnix(`${dir}/c.sock`);
    assert.equal(server.path, "\0" + name.slice(1));
    await client.sendTo("abstract", name);
    const got = await server.receive({ timeout: 2000 });
    assert.equal(text(got.data), "abstract");
    await server.sendTo("back", got.path!);
    assert.equal(text((await client.receive({ timeout: 2000 })).data), "back");
    assert.equal(await exists(name), false);
  }));

Deno.test("bindUnix: mode, mkdir and owner apply to the socket file", () =>
  withDir(async (dir) => {
    await using socket = await bindUnix(`${dir}/a/b/m.sock`, {
      mkdir: true,
      mode: 0o600,
      owner: 0,
    });
    const info = await Deno.stat(socket.path);
    assert.equal(info.mode! & 0o777, 0o600);
    assert.equal(info.uid, 0);
    await rejectsWith(bindUnix(`${dir}/missing/x.sock`), "not_found");
  }));

Deno.test("bindUnix: long datagrams are cut to bufferSize and flagged; a larger bufferSize takes them whole", () =>
  withDir(async (dir) => {
    await using small = await bindUnix(`${dir}/small.sock`);
    await using large = await bindUnix(`${dir}/large.sock`, { bufferSize: 200_000 });
    const big = new Uint8Array(100_000).map((_, i) => i);
    await small.sendTo(big, small.path);
    const cut = await small.receive({ timeout: 2000 });
    assert.equal(cut.truncated, true);
    assert.deepEqual(cut.data, big.subarray(0, 65536));
    await small.sendTo(big, large.path);
    const whole = await large.receive({ timeout: 2000 });
    assert.equal(whole.truncated, false);
    assert.deepEqual(whole.data, big);
  }));

Deno.test("bindUnix: timed-out receive loses nothing; close unblocks a receive; errors map", () =>
  withDir(async (dir) => {
    const socket = await bindUnix(`${dir}/t.sock`);
    await rejectsWith(socket.receive({ timeout: 20 }), "timeout");
    for (const word of ["1", "2", "3"]) await socket.sendTo(word, socket.path);
    const got = [];
    for (let i = 0; i < 3; i++) got.push(text((await socket.receive()).data));
    assert.deepEqual(got, ["1", "2", "3"]);
    assert.equal(socket[pollable]().pollRead(), false);
    await rejectsWith(socket.sendTo("x", `${dir}/nobody.sock`), "not_found");
    await rejectsWith(socket.sendTo("x", ""), "invalid_argument", "path");
    const waiting = socket.receive();
    socket.close();
    socket.close();
    await rejectsWith(waiting, "closed");
    await rejectsWith(socket.sendTo("x", socket.path), "closed");
    await socket[Symbol.asyncDispose]();
  }));

Deno.test("bindUnix rejects bad paths and unknown options naming the field", async () => {
  await rejectsWith(bindUnix(""), "invalid_argument", "path");
  await rejectsWith(bindUnix("/tmp/" + "x".repeat(200)), "invalid_argument", "path");
  await rejectsWith(
    bindUnix("/tmp/x.sock", { backlog: 1 } as never),
    "invalid_argument",
    "backlog",
  );
  await rejectsWith(bindUnix("/tmp/x.sock", { mode: 0o1000 }), "invalid_argument", "mode");
  await rejectsWith(bindUnix("@abstract", { mode: 0o600 }), "invalid_argument", "mode");
});

Deno.test("bindUnix: a socket sends while a receive waits on it (Deno alone says Busy); the waiter gets only the reply", () =>
  withDir(async (dir) => {
    await using server = await bindUnix(`${dir}/s.sock`);
    await using client = await bindUnix(`${dir}/c.sock`);
    const reply = client.receive({ timeout: 2000 });
    await client.sendTo("ping", server.path);
    const request = await server.receive({ timeout: 2000 });
    await server.sendTo("pong", request.path!);
    const got = await reply;
    assert.equal(text(got.data), "pong");
    assert.equal(got.path, server.path);
    await rejectsWith(client.receive({ timeout: 50 }), "timeout");
  }));
