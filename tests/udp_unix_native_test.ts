/**
 * The unix datagram sockets Deno cannot make, through the native layer:
 * unbound ones (`bindUnix()`) and connected ones (`connectUnix`), what the
 * kernel says for missing and dead peers, its filter on connected
 * sockets, deadlines, close, options, input checks, and the missing
 * `--allow-ffi` (a child without it).
 */
import assert from "node:assert/strict";
import { bindUnix, connectUnix, type UnixDatagramClient } from "../udp/mod.ts";
import { rejectsWith } from "./_helpers.ts";
import { exists, tempDir } from "./_unix_util.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const text = (data: Uint8Array) => new TextDecoder().decode(data);

/** A socket file nobody has open: Deno leaves a closed datagram socket's path behind. */
function stalePath(path: string): string {
  Deno.listenDatagram({ transport: "unixpacket", path }).close();
  return path;
}

Deno.test("unbound: sendTo reaches a bound socket, which sees path null and cannot answer", async () => {
  await using dir = await tempDir();
  await using server = await bindUnix(`${dir.path}/server.sock`);
  await using sender = await bindUnix();
  assert.equal(sender.path, null);
  assert.deepEqual(sender.addr, { transport: "unixpacket", path: null });
  assert.equal(sender.remotePath, null);
  assert.equal(await sender.sendTo("first", server.path), 5);
  assert.equal(await sender.sendTo(new Uint8Array(0), server.path), 0);
  const first = await server.receive({ timeout: 5000 });
  assert.deepEqual([text(first.data), first.path, first.truncated], ["first", null, false]);
  const empty = await server.receive({ timeout: 5000 });
  assert.equal(empty.data.length, 0);
  // Linux gives an unbound sender no name (no autobind without SO_PASSCRED): nothing to answer.
  await rejectsWith(server.sendTo("back", first.path as never), "invalid_argument", "path");
  await rejectsWith(sender.send("x"), "invalid_argument");
  // Abstract names work too.
  await using abstract = await bindUnix(`@netkit-native-${crypto.randomUUID()}`);
  await sender.sendTo("to abstract", "@" + abstract.path.slice(1));
  assert.equal(text((await abstract.receive({ timeout: 5000 })).data), "to abstract");
});

Deno.test("connected with localPath: send without a path, the reply comes back, the path goes at close", async () => {
  await using dir = await tempDir();
  const local = `${dir.path}/client.sock`;
  await using server = await bindUnix(`${dir.path}/server.sock`);
  const client = await connectUnix(server.path, { localPath: local, mode: 0o600 });
  assert.equal(client.path, local);
  assert.equal(client.remotePath, server.path);
  assert.equal((await Deno.stat(local)).mode! & 0o777, 0o600);
  for (const word of ["one", "two", "three"]) {
    await client.send(word);
    const request = await server.receive({ timeout: 5000 });
    assert.equal(request.path, local);
    await server.sendTo(`echo ${text(request.data)}`, request.path!);
    assert.equal(text((await client.receive({ timeout: 5000 })).data), `echo ${word}`);
  }
  // sendTo with a path works on a connected socket too (to its own server here).
  await client.sendTo("explicit", server.path);
  assert.equal(text((await server.receive({ timeout: 5000 })).data), "explicit");
  await client[Symbol.asyncDispose]();
  assert.equal(await exists(local), false, "localPath removed at close");
});

Deno.test("connected without localPath: it sends; the server sees no name", async () => {
  await using dir = await tempDir();
  await using server = await bindUnix(`${dir.path}/server.sock`);
  await using client = await connectUnix(server.path);
  assert.equal(client.path, null);
  await client.send("hello");
  const got = await server.receive({ timeout: 5000 });
  assert.deepEqual([text(got.data), got.path], ["hello", null]);
});

Deno.test("connected: the kernel refuses third parties (access_denied) and hands out only the server's datagrams", async () => {
  await using dir = await tempDir();
  await using server = await bindUnix(`${dir.path}/server.sock`);
  await using stranger = await bindUnix(`${dir.path}/stranger.sock`);
  await using client = await connectUnix(server.path, { localPath: `${dir.path}/client.sock` });
  await rejectsWith(stranger.sendTo("intrude", client.path!), "access_denied");
  await server.sendTo("from the server", client.path!);
  const got = await client.receive({ timeout: 5000 });
  assert.deepEqual([text(got.data), got.path], ["from the server", server.path]);
});

Deno.test("not_found for a missing path, connection_refused for a socket file nobody has open", async () => {
  await using dir = await tempDir();
  await using sender = await bindUnix();
  const missing = `${dir.path}/missing.sock`;
  const stale = stalePath(`${dir.path}/stale.sock`);
  await rejectsWith(sender.sendTo("x", missing), "not_found");
  await rejectsWith(connectUnix(missing), "not_found");
  await rejectsWith(sender.sendTo("x", stale), "connection_refused");
  await rejectsWith(connectUnix(stale), "connection_refused");
  // A stream socket's path: the kernel says EPROTOTYPE.
  const listener = Deno.listen({ transport: "unix", path: `${dir.path}/stream.sock` });
  try {
    await rejectsWith(sender.sendTo("x", `${dir.path}/stream.sock`), "invalid_argument");
    await rejectsWith(connectUnix(`${dir.path}/stream.sock`), "invalid_argument");
  } finally {
    listener.close();
  }
  // A failed connect leaves no localPath behind.
  await rejectsWith(connectUnix(missing, { localPath: `${dir.path}/left.sock` }), "not_found");
  assert.equal(await exists(`${dir.path}/left.sock`), false);
});

Deno.test("connected: once the server's socket is gone every send is connection_refused", async () => {
  await using dir = await tempDir();
  const server = await bindUnix(`${dir.path}/server.sock`);
  await using client = await connectUnix(server.path);
  await client.send("while alive");
  await server[Symbol.asyncDispose]();
  // The kernel reports ECONNREFUSED once, then dissolves the connection (ENOTCONN).
  await rejectsWith(client.send("after"), "connection_refused");
  await rejectsWith(client.send("again"), "connection_refused");
});

Deno.test("native unix: a timed-out receive loses nothing; close during a pending receive rejects closed", async () => {
  await using dir = await tempDir();
  await using server = await bindUnix(`${dir.path}/server.sock`);
  const client = await connectUnix(server.path, { localPath: `${dir.path}/client.sock` });
  await rejectsWith(client.receive({ timeout: 10 }), "timeout");
  await server.sendTo("late", client.path!);
  assert.equal(text((await client.receive({ timeout: 5000 })).data), "late");
  const waiting = rejectsWith(client.receive(), "closed");
  client.close();
  await waiting;
  await client[Symbol.asyncDispose]();
  await rejectsWith(client.send("x"), "closed");
  assert.throws(() => client.fileno(), { code: "closed" });
});

Deno.test("native unix: a receiver that does not read makes sends wait (timeout), and close ends them", async () => {
  await using dir = await tempDir();
  await using server = await bindUnix(`${dir.path}/server.sock`);
  for (const connected of [false, true]) {
    const client: UnixDatagramClient = connected
      ? await connectUnix(server.path)
      : await bindUnix();
    let sent = 0;
    let outcome = "";
    for (let i = 0; i < 10_000 && outcome === ""; i++) {
      await client.sendTo("x", server.path, { timeout: 50 }).then(
        () => sent++,
        (error) => outcome = error.code,
      );
    }
    assert.equal(outcome, "timeout", `after ${sent} datagrams (connected: ${connected})`);
    assert.ok(sent > 0);
    const stillSending = client.send("y").catch((error) => error.code);
    await client[Symbol.asyncDispose]();
    assert.equal(await stillSending, connected ? "closed" : "invalid_argument");
    // Drain what queued, so the next round starts empty.
    for (let i = 0; i < sent; i++) await server.receive({ timeout: 5000 });
    await rejectsWith(server.receive({ timeout: 20 }), "timeout");
  }
});

Deno.test("native unix: truncated datagrams, the size limit, options and fileno", async () => {
  await using dir = await tempDir();
  await using server = await bindUnix(`${dir.path}/server.sock`);
  await using client = await connectUnix(server.path, {
    localPath: `${dir.path}/client.sock`,
    bufferSize: 4,
  });
  await server.sendTo("0123456789", client.path!);
  const cut = await client.receive({ timeout: 5000 });
  assert.deepEqual([text(cut.data), cut.truncated], ["0123", true]);
  await server.sendTo("abcd", client.path!);
  const whole = await client.receive({ timeout: 5000 });
  assert.deepEqual([text(whole.data), whole.truncated], ["abcd", false]);
  await rejectsWith(client.send(new Uint8Array(4 * 1024 * 1024)), "invalid_argument");
  assert.ok(client.fileno() > 2);
  assert.equal(client.getOption("so_type"), "dgram");
  client.setOption("so_sndbuf", 65536);
  assert.equal(client.getOption("so_sndbuf"), 131072);
  assert.equal(client.getOption("so_error"), null);
  assert.throws(() => client.getOption("tcp_nodelay"), { code: "invalid_argument", field: "name" });
  assert.throws(() => client.getOption("ip_ttl"), { code: "invalid_argument", field: "name" });
  assert.throws(() => client.setOption("so_rcvbuf", -1), {
    code: "invalid_argument",
    field: "value",
  });
});

Deno.test("native unix: localPath's life cycle (a live socket is address_in_use, a stale file is replaced)", async () => {
  await using dir = await tempDir();
  await using server = await bindUnix(`${dir.path}/server.sock`);
  await using taken = await bindUnix(`${dir.path}/taken.sock`);
  await rejectsWith(
    connectUnix(server.path, { localPath: taken.path }),
    "address_in_use",
  );
  const stale = stalePath(`${dir.path}/stale.sock`);
  await using client = await connectUnix(server.path, { localPath: stale });
  await client.send("from a reused path");
  assert.equal((await server.receive({ timeout: 5000 })).path, stale);
});

Deno.test("native unix: bad input is invalid_argument naming the field", async () => {
  await rejectsWith(connectUnix(""), "invalid_argument", "path");
  await rejectsWith(connectUnix(42 as never), "invalid_argument", "path");
  await rejectsWith(connectUnix("@x", { mode: 0o600 }), "invalid_argument", "mode");
  await rejectsWith(connectUnix("@x", { localPath: "" }), "invalid_argument", "localPath");
  await rejectsWith(connectUnix("@x", { bufferSize: 0 }), "invalid_argument", "bufferSize");
  await rejectsWith(connectUnix("@x", { nope: 1 } as never), "invalid_argument", "nope");
  await rejectsWith(bindUnix(null, { mode: 0o600 } as never), "invalid_argument", "mode");
  await rejectsWith(bindUnix(undefined, { bufferSize: -1 }), "invalid_argument", "bufferSize");
  await using sender = await bindUnix();
  await rejectsWith(sender.sendTo("x", ""), "invalid_argument", "path");
  await rejectsWith(sender.sendTo(7 as never, "@x"), "invalid_argument");
});

Deno.test("without --allow-ffi: unbound and connected unix datagram sockets are not_supported naming the flag", async () => {
  await using dir = await tempDir();
  const code = `import { bindUnix, connectUnix } from "${
    new URL("../udp/mod.ts", import.meta.url).href
  }";
    const outcome = async (work) => {
      try { const s = await work(); s.close(); return "opened"; }
      catch (e) { return [e.code, e.field ?? null, e.message]; }
    };
    console.log(JSON.stringify([
      await outcome(() => bindUnix()),
      await outcome(() => connectUnix(Deno.args[0] + "/server.sock")),
      await outcome(() => connectUnix("")),
      await outcome(() => bindUnix(Deno.args[0] + "/bound.sock")),
    ]));`;
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-write", "--allow-net", "--unstable-net", "-", dir.path],
    cwd: ROOT,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(code));
  await writer.close();
  const output = await child.output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  const [unbound, connected, bad, bound] = JSON.parse(new TextDecoder().decode(output.stdout));
  for (const outcome of [unbound, connected]) {
    assert.equal(outcome[0], "not_supported");
    assert.match(outcome[2], /--allow-ffi/);
  }
  assert.deepEqual(bad.slice(0, 2), ["invalid_argument", "path"]);
  assert.equal(bound, "opened", "a bound socket needs no FFI");
});
