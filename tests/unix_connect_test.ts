import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { connect, listen } from "../unix/mod.ts";
import { crashedServer, rejectsWith, tempDir } from "./_unix_util.ts";

Deno.test("connect to a missing path fails not_found", async () => {
  await using dir = await tempDir();
  const error = await rejectsWith(connect(`${dir.path}/missing.sock`), "not_found");
  assertEquals(error.address, `${dir.path}/missing.sock`);
  await rejectsWith(connect(`${dir.path}/no/such/dir.sock`), "not_found");
});

Deno.test("connect to a regular file or a stale socket fails connection_refused", async () => {
  await using dir = await tempDir();
  await Deno.writeTextFile(`${dir.path}/file`, "x");
  await rejectsWith(connect(`${dir.path}/file`), "connection_refused");
  await crashedServer(`${dir.path}/stale.sock`);
  await rejectsWith(connect(`${dir.path}/stale.sock`), "connection_refused");
});

Deno.test("connect accepts only timeout and signal, naming a rejected field", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/o.sock`;
  await using listener = await listen(path);
  await rejectsWith(
    connect(path, { mode: 0o600 } as unknown as { timeout: number }),
    "invalid_argument",
    "mode",
  );
  await rejectsWith(connect(path, { timeout: -1 }), "invalid_argument", "timeout");
  await rejectsWith(
    connect(path, { signal: "x" as unknown as AbortSignal }),
    "invalid_argument",
    "signal",
  );
  await rejectsWith(connect(""), "invalid_argument", "path");
  await rejectsWith(connect(`${dir.path}/\0`), "invalid_argument", "path");
  await rejectsWith(connect(path, { timeout: 0 }), "timeout");
  await rejectsWith(connect(path, { signal: AbortSignal.abort() }), "aborted");
  // Nothing reached the listener from the rejected calls.
  await rejectsWith(listener.accept({ timeout: 10 }), "timeout");
  await using client = await connect(path, { timeout: 1000 });
  await using server = await listener.accept({ timeout: 2000 });
  await server.writeAll("ok");
  assertEquals(await client.readExact(2), new TextEncoder().encode("ok"));
});

Deno.test("connect reports the path as remoteAddr and an unbound localAddr", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/addr.sock`;
  await using listener = await listen(path);
  await using client = await connect(path);
  await using server = await listener.accept();
  assertEquals(client.remoteAddr, { transport: "unix", path });
  assertEquals(client.localAddr?.transport, "unix");
  assertEquals((client.localAddr as Deno.UnixAddr).path, null);
  assertEquals((server.remoteAddr as Deno.UnixAddr).path, null);
});
