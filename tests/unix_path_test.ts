import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { bindDirOf, bindPath, SUN_PATH_MAX, toSocketPath } from "../common/_unix_path.ts";
import { connect, listen } from "../unix/mod.ts";
import { exists, LineChild, rejectsWith, tempDir } from "./_unix_util.ts";

Deno.test("toSocketPath turns @name into \\0name and names the path field on errors", async () => {
  assertEquals(toSocketPath("op", "@x"), "\0x");
  assertEquals(toSocketPath("op", "\0x"), "\0x");
  assertEquals(toSocketPath("op", "rel.sock"), "rel.sock");
  assertEquals(SUN_PATH_MAX, Deno.build.os === "linux" ? 107 : 103);
  await rejectsWith(
    () => Promise.resolve().then(() => toSocketPath("op", "")),
    "invalid_argument",
    "path",
  );
  await rejectsWith(
    () => Promise.resolve().then(() => toSocketPath("op", 3)),
    "invalid_argument",
    "path",
  );
});

Deno.test("bindPath binds a unix datagram socket with mode, and release removes only its file", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/dgram.sock`;
  const bound = await bindPath(
    "bindUnix",
    path,
    { mode: 0o640 },
    (p) => Deno.listenDatagram({ transport: "unixpacket", path: p }),
    () => Promise.resolve("stale"),
    (socket) => socket.close(),
  );
  assertEquals(bound.path, path);
  assertEquals((await Deno.lstat(path)).mode! & 0o777, 0o640);
  const sender = Deno.listenDatagram({ transport: "unixpacket", path: `${dir.path}/sender.sock` });
  try {
    await sender.send(new Uint8Array([7]), { transport: "unixpacket", path });
    const [data] = await bound.resource.receive();
    assertEquals(data, new Uint8Array([7]));
  } finally {
    sender.close();
    bound.resource.close();
  }
  assertEquals(bound.release(), true);
  assertEquals(bound.release(), false);
  assert(!(await exists(path)));
});

Deno.test("bindPath closes the resource and leaves nothing when the probe says alive", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/busy.sock`;
  const existing = Deno.listenDatagram({ transport: "unixpacket", path });
  await rejectsWith(
    bindPath(
      "bindUnix",
      path,
      {},
      (p) => Deno.listenDatagram({ transport: "unixpacket", path: p }),
      () => Promise.resolve("alive"),
      (socket) => socket.close(),
    ),
    "address_in_use",
  );
  assertEquals([...Deno.readDirSync(dir.path)].map((e) => e.name), ["busy.sock"]);
  existing.close();
});

/** Leaves a stale stream socket file at `path` (bound at `scratch`, linked, closed). */
function staleAt(path: string, scratch: string): Deno.FileInfo {
  const listener = Deno.listen({ transport: "unix", path: scratch });
  Deno.linkSync(scratch, path);
  listener.close();
  return Deno.lstatSync(path);
}

function names(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((entry) => entry.name).sort();
}

Deno.test("bindDirOf names the private directory after the path", () => {
  assertEquals(bindDirOf("/run/app/api.sock"), "/run/app/.api.sock.netkit-bind");
  assertEquals(bindDirOf("/api.sock"), "/.api.sock.netkit-bind");
  assertEquals(bindDirOf("api.sock"), ".api.sock.netkit-bind");
});

/** True when some process waits for an flock on the inode `ino` (Linux /proc/locks). */
async function flockWaiter(ino: number): Promise<boolean> {
  const locks = await Deno.readTextFile("/proc/locks");
  return locks.split("\n").some((line) => /-> FLOCK/.test(line) && line.includes(`:${ino} `));
}

Deno.test("listen waits for another process that holds the path's lock, then finds its socket", {
  ignore: Deno.build.os !== "linux",
}, async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/held.sock`;
  staleAt(path, `${dir.path}/maker.sock`);
  const lockDir = bindDirOf(path);
  // A binder that, holding the lock, replaces the stale file by its own live socket.
  const holder = await LineChild.spawn(
    `const [lockDir, path] = Deno.args;
     await Deno.mkdir(lockDir, { mode: 0o700 });
     const lock = await Deno.open(lockDir, { read: true });
     await lock.lock(true);
     console.log("ready");
     const input = Deno.stdin.readable.getReader();
     await input.read();
     Deno.removeSync(path);
     const listener = Deno.listen({ transport: "unix", path });
     Deno.removeSync(lockDir);
     lock.close();
     console.log("bound");
     (async () => {
       for await (const conn of listener) {
         await conn.write(new TextEncoder().encode("holder\\n")).catch(() => {});
         conn.close();
       }
     })();
     await input.read();
     Deno.exit(0);`,
    [lockDir, path],
  );
  try {
    const ino = (await Deno.lstat(lockDir)).ino!;
    const pending = listen(path);
    let waiting = false;
    for (let i = 0; i < 100_000 && !waiting; i++) waiting = await flockWaiter(ino);
    assert(waiting, "listen never waited for the lock");
    await holder.send("go");
    assertEquals(await holder.line(), "bound");
    await rejectsWith(pending, "address_in_use");
    await using client = await connect(path);
    assertEquals(await client.readLine(), "holder");
  } finally {
    await holder[Symbol.asyncDispose]();
  }
});

Deno.test("listen clears the temporary sockets a binder that died mid-way left in the lock directory", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/crashed.sock`;
  const lockDir = bindDirOf(path);
  await Deno.mkdir(lockDir, { mode: 0o700 });
  staleAt(`${lockDir}/s`, `${dir.path}/maker.sock`);
  staleAt(`${lockDir}/stale`, `${dir.path}/maker.sock`);
  staleAt(path, `${dir.path}/maker.sock`);
  await using listener = await listen(path, { mode: 0o600 });
  assertEquals(names(dir.path), ["crashed.sock"]);
  await using client = await connect(path);
  await using server = await listener.accept({ timeout: 5000 });
  await client.writeAll("x");
  assertEquals(await server.readExact(1), new Uint8Array([120]));
});

Deno.test("a file, a symlink or a non-socket where the lock directory goes is left alone: address_in_use", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/blocked.sock`;
  const lockDir = bindDirOf(path);
  await Deno.writeTextFile(lockDir, "mine");
  const file = await rejectsWith(listen(path), "address_in_use");
  assert(file.message.includes("in the way (not a directory)"), file.message);
  assertEquals(await Deno.readTextFile(lockDir), "mine");
  await Deno.remove(lockDir);

  await Deno.mkdir(`${dir.path}/elsewhere`);
  await Deno.symlink(`${dir.path}/elsewhere`, lockDir);
  const link = await rejectsWith(listen(path), "address_in_use");
  assert(link.message.includes("a symbolic link"), link.message);
  assert((await Deno.lstat(lockDir)).isSymlink);
  await Deno.remove(lockDir);

  await Deno.mkdir(lockDir, { mode: 0o700 });
  await Deno.writeTextFile(`${lockDir}/s`, "also mine");
  const inside = await rejectsWith(listen(path), "address_in_use");
  assert(inside.message.includes("not a socket"), inside.message);
  assertEquals(await Deno.readTextFile(`${lockDir}/s`), "also mine");
  assert(!(await exists(path)));
});

Deno.test("a stale path replaced by another program while probing is put back, not deleted", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/swapped.sock`;
  staleAt(path, `${dir.path}/maker.sock`);
  let probes = 0;
  let replacement: Deno.FileInfo | undefined;
  const error = await rejectsWith(
    bindPath(
      "listen",
      path,
      {},
      (p) => Deno.listen({ transport: "unix", path: p }),
      () => {
        // The second probe runs under the lock; then something outside netkit swaps the file.
        if (++probes === 2) {
          Deno.renameSync(path, `${dir.path}/moved.sock`);
          replacement = staleAt(path, `${dir.path}/other.sock`);
        }
        return Promise.resolve("stale");
      },
      (listener) => listener.close(),
    ),
    "address_in_use",
  );
  assert(error.message.includes("replaced while probing"), error.message);
  const now = await Deno.lstat(path);
  assertEquals([now.dev, now.ino], [replacement!.dev, replacement!.ino]);
  assertEquals(names(dir.path), ["moved.sock", "swapped.sock"]);
});

Deno.test("a lock directory of another user is refused before its socket is used", {
  ignore: Deno.uid() !== 0,
}, async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/theirs.sock`;
  const lockDir = bindDirOf(path);
  await Deno.mkdir(lockDir, { mode: 0o700 });
  await Deno.chown(lockDir, 65534, 65534);
  const error = await rejectsWith(listen(path), "access_denied");
  assert(error.message.includes("belongs to another user"), error.message);
  assert(!(await exists(path)));
});

Deno.test("a lock directory left with a wider mode is narrowed to 0700 before binding in it", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/wide.sock`;
  const lockDir = bindDirOf(path);
  await Deno.mkdir(lockDir);
  await Deno.chmod(lockDir, 0o777);
  await using listener = await listen(path);
  assertEquals(names(dir.path), ["wide.sock"]);
  listener.close();
  assert(!(await exists(path)));
});
