import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { bindPath, SUN_PATH_MAX, toSocketPath } from "../common/unix_path.ts";
import { exists, rejectsWith, tempDir } from "./_unix_util.ts";

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
