import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { connect, listen, NetError } from "../unix/mod.ts";
import { pollable } from "../mod.ts";
import {
  crashedServer,
  exists,
  IS_ROOT,
  nobodyIgnored,
  rejectsWith,
  runAsNobody,
  spawnReady,
  tempDir,
} from "./_unix_util.ts";

const decoder = new TextDecoder();

async function echoOnce(listener: Awaited<ReturnType<typeof listen>>, path: string): Promise<void> {
  const client = await connect(path);
  const server = await listener.accept({ timeout: 2000 });
  await client.writeAll("ping");
  await server.writeAll(await server.readExact(4));
  assertEquals(decoder.decode(await client.readExact(4)), "ping");
  client.close();
  server.close();
}

Deno.test("listen rejects an empty path, a NUL byte and 108 bytes; 107 bytes work", async () => {
  await using dir = await tempDir();
  await rejectsWith(listen(""), "invalid_argument", "path");
  await rejectsWith(listen(`${dir.path}/a\0b`), "invalid_argument", "path");
  await rejectsWith(listen(42 as unknown as string), "invalid_argument", "path");
  const base = `${dir.path}/`;
  const long = base + "x".repeat(108 - base.length);
  assertEquals(new TextEncoder().encode(long).length, 108);
  await rejectsWith(listen(long), "invalid_argument", "path");
  assert(!(await exists(long)));
  const max = long.slice(0, 107);
  await using listener = await listen(max);
  assertEquals(listener.path, max);
  await echoOnce(listener, max);
});

Deno.test("listen accepts a relative path, resolved against the cwd and reported as given", async () => {
  await using dir = await tempDir();
  const up = "../".repeat(Deno.cwd().split("/").length - 1);
  const relative = `${up}${dir.path.slice(1)}/rel.sock`;
  await using listener = await listen(relative);
  assertEquals(listener.path, relative);
  assertEquals(listener.addr, { transport: "unix", path: relative });
  assert((await Deno.lstat(`${dir.path}/rel.sock`)).isSocket);
  await echoOnce(listener, relative);
  listener.close();
  assert(!(await exists(`${dir.path}/rel.sock`)));
});

Deno.test("listen validates backlog, mode and unknown options, naming the field", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/v.sock`;
  await rejectsWith(listen(path, { backlog: -1 }), "invalid_argument", "backlog");
  await rejectsWith(listen(path, { backlog: 0 }), "invalid_argument", "backlog");
  await rejectsWith(listen(path, { backlog: 1.5 }), "invalid_argument", "backlog");
  await rejectsWith(listen(path, { mode: 0o1000 }), "invalid_argument", "mode");
  await rejectsWith(listen(path, { mode: -1 }), "invalid_argument", "mode");
  await rejectsWith(listen(path, { owner: -5 }), "invalid_argument", "owner");
  await rejectsWith(
    listen(path, { unlink: "yes" as unknown as boolean }),
    "invalid_argument",
    "unlink",
  );
  await rejectsWith(
    listen(path, { reuse: true } as unknown as { backlog: number }),
    "invalid_argument",
    "reuse",
  );
  assert(!(await exists(path)));
  await using listener = await listen(path, { backlog: 1 });
  await echoOnce(listener, path);
});

Deno.test("listen reports the user's path everywhere, never the temporary bind name", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/names.sock`;
  await using listener = await listen(path);
  assertEquals(listener.path, path);
  assertEquals(listener.addr, { transport: "unix", path });
  await using client = await connect(path);
  await using server = await listener.accept();
  assertEquals(client.remoteAddr, { transport: "unix", path });
  assertEquals(server.localAddr, { transport: "unix", path });
  assertEquals([...Deno.readDirSync(dir.path)].map((e) => e.name), ["names.sock"]);
});

Deno.test("listen on a regular file fails address_in_use and leaves the file untouched", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/data.txt`;
  await Deno.writeTextFile(path, "precious");
  const error = await rejectsWith(listen(path), "address_in_use");
  assert(error.message.includes("not a socket"), error.message);
  assertEquals(await Deno.readTextFile(path), "precious");
});

Deno.test("listen on a live server's path fails address_in_use and the server keeps working", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/live.sock`;
  await using first = await listen(path);
  await rejectsWith(listen(path), "address_in_use");
  await rejectsWith(listen(path, { unlink: false }), "address_in_use");
  // The probe's own connection arrives first; then a real client still gets through.
  const probe = await first.accept({ timeout: 2000 });
  assertEquals(await probe.read(), null);
  probe.close();
  await echoOnce(first, path);
  assert((await Deno.lstat(path)).isSocket);
});

Deno.test("listen removes a stale socket path left by a crashed server", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/stale.sock`;
  await crashedServer(path);
  assert((await Deno.lstat(path)).isSocket);
  await rejectsWith(connect(path), "connection_refused");
  await using listener = await listen(path);
  await echoOnce(listener, path);
});

Deno.test("listen with unlink: false refuses a stale path and keeps it", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/stale.sock`;
  await crashedServer(path);
  const before = await Deno.lstat(path);
  await rejectsWith(listen(path, { unlink: false }), "address_in_use");
  assertEquals((await Deno.lstat(path)).ino, before.ino);
});

Deno.test("close removes the path when unlinkOnClose is true (the default)", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/gone.sock`;
  const listener = await listen(path);
  assert(await exists(path));
  assertEquals(listener.close(), true);
  assertEquals(listener.close(), false);
  assert(listener.closed);
  assert(!(await exists(path)));
  assertEquals([...Deno.readDirSync(dir.path)], []);
});

Deno.test("close keeps the path with unlinkOnClose: false (Deno alone would delete it)", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/kept.sock`;
  const listener = await listen(path, { unlinkOnClose: false });
  listener.close();
  assert((await Deno.lstat(path)).isSocket);
  await rejectsWith(connect(path), "connection_refused");
  // The kept path is stale now; the next listen cleans it.
  await using again = await listen(path);
  await echoOnce(again, path);
});

Deno.test("close does not remove a path that another file replaced", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/replaced.sock`;
  const listener = await listen(path);
  await Deno.remove(path);
  await Deno.writeTextFile(path, "someone else's");
  listener.close();
  assertEquals(await Deno.readTextFile(path), "someone else's");
});

Deno.test("close does not remove a path that another server took over", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/taken.sock`;
  const old = await listen(path);
  await Deno.remove(path);
  await using successor = await listen(path);
  old.close();
  assert((await Deno.lstat(path)).isSocket);
  await echoOnce(successor, path);
});

Deno.test("listen with mkdir creates parents; mode applies to the socket only", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/a/b/c.sock`;
  await rejectsWith(listen(path), "not_found");
  await using listener = await listen(path, { mkdir: true, mode: 0o600 });
  assertEquals((await Deno.stat(path)).mode! & 0o777, 0o600);
  assert(((await Deno.stat(`${dir.path}/a/b`)).mode! & 0o700) === 0o700);
  assert(((await Deno.stat(`${dir.path}/a/b`)).mode! & 0o777) !== 0o600);
  await echoOnce(listener, path);
});

Deno.test("listen applies mode exactly, narrower and wider than the umask", async () => {
  await using dir = await tempDir();
  for (const mode of [0o600, 0o660, 0o666, 0o777, 0o000]) {
    const path = `${dir.path}/m${mode.toString(8)}.sock`;
    await using listener = await listen(path, { mode });
    assertEquals((await Deno.lstat(path)).mode! & 0o777, mode);
    listener.close();
  }
});

Deno.test("listen never shows the final path with a mode wider than asked", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/watched.sock`;
  const stop = `${dir.path}/stop`;
  const { child, rest } = await spawnReady(
    `const [path, stop] = Deno.args; const seen = new Set(); let hits = 0;
     console.log("ready");
     for (let i = 0; i < 5_000_000; i++) {
       try { seen.add(Deno.lstatSync(path).mode & 0o777); hits++; } catch {}
       if (i % 64 === 0) { try { Deno.lstatSync(stop); break; } catch {} }
     }
     console.log(JSON.stringify({ hits, modes: [...seen] }));`,
    [path, stop],
  );
  for (let i = 0; i < 40; i++) {
    const listener = await listen(path, { mode: 0o600 });
    await listener[Symbol.asyncDispose]();
  }
  await using _last = await listen(path, { mode: 0o600 });
  await Deno.writeTextFile(stop, "");
  await child.status;
  const report = JSON.parse(await rest()) as { hits: number; modes: number[] };
  assert(report.hits > 0, "the watcher never saw the path");
  for (const mode of report.modes) assertEquals(mode & ~0o600, 0, `saw mode ${mode.toString(8)}`);
});

Deno.test("listen sets owner and group", { ignore: !IS_ROOT }, async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/owned.sock`;
  await using listener = await listen(path, { owner: 65534, group: 65534, mode: 0o600 });
  const info = await Deno.lstat(path);
  assertEquals([info.uid, info.gid, info.mode! & 0o777], [65534, 65534, 0o600]);
  await echoOnce(listener, path);
});

Deno.test("listen fails access_denied when chown is not allowed, leaving nothing behind", {
  ignore: nobodyIgnored(),
}, async () => {
  await using dir = await tempDir(true);
  const out = await runAsNobody(
    (unixMod) =>
      `import { listen } from "${unixMod}";
     const path = Deno.args[0] + "/owned.sock";
     let code = "ok";
     try { (await listen(path, { owner: 0 })).close(); } catch (e) { code = e.code; }
     const left = [...Deno.readDirSync(Deno.args[0])].map((e) => e.name).filter((n) => n !== ".deno-dir");
     console.log(JSON.stringify({ code, left }));`,
    [dir.path],
    dir.path,
  );
  assertEquals(JSON.parse(out), { code: "access_denied", left: [] });
});

Deno.test("a 0600 socket refuses another user with access_denied; 0666 lets them in", {
  ignore: nobodyIgnored(),
}, async () => {
  await using dir = await tempDir(true);
  await using _private = await listen(`${dir.path}/private.sock`, { mode: 0o600 });
  await using open = await listen(`${dir.path}/public.sock`, { mode: 0o666 });
  const out = await runAsNobody(
    (unixMod) =>
      `import { connect } from "${unixMod}";
     const codes = [];
     for (const name of ["private.sock", "public.sock"]) {
       try { (await connect(Deno.args[0] + "/" + name)).close(); codes.push("ok"); }
       catch (e) { codes.push(e.code); }
     }
     console.log(JSON.stringify(codes));`,
    [dir.path],
    dir.path,
  );
  assertEquals(JSON.parse(out), ["access_denied", "ok"]);
  (await open.accept({ timeout: 2000 })).close();
});

Deno.test("abstract names (\\0x and @x) listen and connect without a file", async () => {
  for (
    const given of [`\0netkit-test-${crypto.randomUUID()}`, `@netkit-test-${crypto.randomUUID()}`]
  ) {
    const abstract = "\0" + given.slice(1);
    await using listener = await listen(given);
    assertEquals(listener.path, abstract);
    assertEquals(listener.addr, { transport: "unix", path: abstract });
    for (const file of ["@" + given.slice(1), given.slice(1)]) {
      assert(!(await exists(file)), "a file was created for an abstract name");
    }
    await using client = await connect(given);
    await using server = await listener.accept();
    assertEquals(server.localAddr, { transport: "unix", path: abstract });
    assertEquals(client.remoteAddr, { transport: "unix", path: abstract });
    await client.writeAll("x");
    assertEquals(await server.readExact(1), new Uint8Array([120]));
    await rejectsWith(listen(given), "address_in_use");
  }
  await rejectsWith(listen("@netkit-mode", { mode: 0o600 }), "invalid_argument", "mode");
  await rejectsWith(listen("@netkit-owner", { owner: 0 }), "invalid_argument", "owner");
});

Deno.test("a timed-out accept loses nothing: the next accept returns the connection", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/t.sock`;
  await using listener = await listen(path);
  await rejectsWith(listener.accept({ timeout: 20 }), "timeout");
  const controller = new AbortController();
  const aborted = listener.accept({ signal: controller.signal });
  controller.abort(new Error("stop"));
  await rejectsWith(aborted, "aborted");
  await using client = await connect(path);
  await using server = await listener.accept({ timeout: 2000 });
  await client.writeAll("a");
  assertEquals(await server.readExact(1), new Uint8Array([97]));
});

Deno.test("close rejects a pending accept with closed; dispose frees the path at once", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/c.sock`;
  const listener = await listen(path);
  const pending = listener.accept();
  const done = listener[Symbol.asyncDispose]();
  const error = await rejectsWith(pending, "closed");
  assert(error instanceof NetError);
  await done;
  await rejectsWith(listener.accept(), "closed");
  await using again = await listen(path);
  await echoOnce(again, path);
});

Deno.test("async iteration yields connections and ends when the listener closes", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/iter.sock`;
  const listener = await listen(path);
  const served = (async () => {
    let count = 0;
    for await (const stream of listener) {
      await stream.writeAll(`#${count++}\n`);
      stream.close();
    }
    return count;
  })();
  for (let i = 0; i < 3; i++) {
    await using client = await connect(path);
    assertEquals(await client.readLine(), `#${i}`);
  }
  await listener[Symbol.asyncDispose]();
  assertEquals(await served, 3);
});

Deno.test("a path at the length limit with a one-letter name binds in place, mode still exact", async () => {
  await using dir = await tempDir();
  const deep = `${dir.path}/${"d".repeat(107 - dir.path.length - 3)}`;
  await Deno.mkdir(deep);
  const path = `${deep}/s`;
  assertEquals(new TextEncoder().encode(path).length, 107);
  await rejectsWith(listen(path, { unlinkOnClose: false }), "not_supported", "unlinkOnClose");
  const listener = await listen(path, { mode: 0o600 });
  assertEquals((await Deno.lstat(path)).mode! & 0o777, 0o600);
  await echoOnce(listener, path);
  listener.close();
  assert(!(await exists(path)));
});

Deno.test("a listener's pollable turns readable when a client waits, without accepting", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/poll.sock`;
  await using listener = await listen(path);
  const readiness = listener[pollable]();
  assertEquals(readiness.pollRead(), false);
  await using client = await connect(path);
  await readiness.waitRead();
  assertEquals(readiness.pollRead(), true);
  await using server = await listener.accept({ timeout: 2000 });
  assertEquals(readiness.pollRead(), false);
  await client.writeAll("z");
  assertEquals(await server.readExact(1), new Uint8Array([122]));
  listener.close();
  assertEquals(readiness.closed, true);
});
