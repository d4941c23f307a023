import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { client, listen, serve } from "../unix/mod.ts";
import { crashedServer, exists, rejectsWith, tempDir } from "./_unix_util.ts";

Deno.test("serve and client make an HTTP round trip over a unix socket", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/http.sock`;
  let listened: Deno.UnixAddr | undefined;
  const server = await serve(path, async (request) => {
    return Response.json({ method: request.method, body: await request.text() });
  }, { mode: 0o600, onListen: (addr) => listened = addr });
  assertEquals(server.addr, { transport: "unix", path });
  assertEquals(listened, { transport: "unix", path });
  assertEquals((await Deno.lstat(path)).mode! & 0o777, 0o600);
  {
    using http = client(path);
    const response = await fetch("http://localhost/echo", {
      client: http,
      method: "POST",
      body: "payload",
    });
    assertEquals(response.status, 200);
    assertEquals(await response.json(), { method: "POST", body: "payload" });
  }
  await server.shutdown();
  assert(!(await exists(path)), "shutdown left the path behind");
});

Deno.test("serve removes a stale path and refuses a live one", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/web.sock`;
  await crashedServer(path);
  await using server = await serve(path, () => new Response("up"));
  await rejectsWith(serve(path, () => new Response("second")), "address_in_use");
  using http = client(path);
  assertEquals(await (await fetch("http://x/", { client: http })).text(), "up");
  await server.shutdown();
});

Deno.test("serve validates its handler and options", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/bad.sock`;
  await rejectsWith(
    serve(path, "nope" as unknown as () => Response),
    "invalid_argument",
    "handler",
  );
  await rejectsWith(
    serve(path, () => new Response(), { port: 80 } as unknown as { mode: number }),
    "invalid_argument",
    "port",
  );
  await rejectsWith(
    serve(path, () => new Response(), { mode: 0o7777 }),
    "invalid_argument",
    "mode",
  );
  assert(!(await exists(path)));
});

Deno.test("serve stops when its signal aborts, and the path goes with it", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/signal.sock`;
  const controller = new AbortController();
  const server = await serve(path, () => new Response("ok"), { signal: controller.signal });
  controller.abort();
  await server.finished;
  assert(!(await exists(path)));
  await using listener = await listen(path);
  assertEquals(listener.path, path);
});

Deno.test("client rejects a bad path with invalid_argument", () => {
  for (const bad of ["", "a\0b", "/" + "x".repeat(200)]) {
    let code: string | undefined;
    try {
      client(bad).close();
    } catch (error) {
      code = (error as { code?: string }).code;
    }
    assertEquals(code, "invalid_argument");
  }
});
