import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { connect, listen, type UnixListener, type UnixStream } from "../unix/mod.ts";
import { rejectsWith, spawnReady, tempDir } from "./_unix_util.ts";

const decoder = new TextDecoder();

async function pair(path: string, listener: UnixListener): Promise<[UnixStream, UnixStream]> {
  const client = await connect(path);
  const server = await listener.accept({ timeout: 2000 });
  return [client, server];
}

Deno.test("200 concurrent echo clients get every byte back", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/echo.sock`;
  await using listener = await listen(path, { backlog: 256 });
  const handlers: Promise<void>[] = [];
  const serving = (async () => {
    for await (const stream of listener) {
      handlers.push((async () => {
        for await (const chunk of stream) await stream.writeAll(chunk);
        stream.close();
      })());
    }
  })();
  const clients = Array.from({ length: 200 }, async (_, id) => {
    await using client = await connect(path);
    for (let round = 0; round < 10; round++) {
      const message = new Uint8Array(512).map((_, i) => (id * 31 + round * 7 + i) & 0xff);
      await client.writeAll(message);
      assertEquals(await client.readExact(512, { timeout: 5000 }), message);
    }
    await client.shutdown("w");
    assertEquals(await client.read(), null);
  });
  await Promise.all(clients);
  await listener[Symbol.asyncDispose]();
  await serving;
  await Promise.all(handlers);
  assertEquals(handlers.length, 200);
});

Deno.test("a peer killed with SIGKILL mid-stream surfaces as connection_reset, not data loss", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/crash.sock`;
  await using listener = await listen(path);
  const { child, rest } = await spawnReady(
    `const c = await Deno.connect({ transport: "unix", path: Deno.args[0] });
     await c.write(new TextEncoder().encode("hello"));
     console.log("ready");
     setInterval(() => {}, 1000);`,
    [path],
  );
  await using server = await listener.accept({ timeout: 5000 });
  assertEquals(decoder.decode(await server.readExact(5)), "hello");
  // Bytes the child never reads make the kernel reset the connection when it dies.
  await server.writeAll("unread by the peer");
  const reading = rejectsWith(server.read(), "connection_reset");
  child.kill("SIGKILL");
  await child.status;
  await rest();
  await reading;
  await rejectsWith(server.read(), "connection_reset");
  await rejectsWith(server.write("more"), "connection_reset");
});

Deno.test("half-close works both ways over a unix socket", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/half.sock`;
  await using listener = await listen(path);
  const [client, server] = await pair(path, listener);
  await using _c = client;
  await using _s = server;
  await client.writeAll("request");
  await client.shutdown("w");
  assertEquals(decoder.decode(await server.readAll()), "request");
  await rejectsWith(client.write("late"), "broken_pipe");
  await server.writeAll("reply");
  await server.shutdown("w");
  assertEquals(decoder.decode(await client.readAll()), "reply");
  assertEquals(await server.read(), null);
});

Deno.test("half-close through the web streams keeps the other direction open", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/web.sock`;
  await using listener = await listen(path);
  const [client, server] = await pair(path, listener);
  await using _c = client;
  await using _s = server;
  const writer = client.writable.getWriter();
  await writer.write(new TextEncoder().encode("via web"));
  await writer.close();
  let received = "";
  for await (const chunk of server.readable) received += decoder.decode(chunk);
  assertEquals(received, "via web");
  await server.writeAll("back");
  assertEquals(decoder.decode(await client.readExact(4)), "back");
});

Deno.test("closing with unread input resets the unix peer", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/reset.sock`;
  await using listener = await listen(path);
  const [client, server] = await pair(path, listener);
  await using _c = client;
  await client.writeAll("never read");
  // A unix write completes into the peer's receive queue: the server now holds unread input.
  const reading = rejectsWith(client.read(), "connection_reset");
  server.close();
  await reading;
});

Deno.test("a timed-out read loses nothing on a unix stream", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/t.sock`;
  await using listener = await listen(path);
  const [client, server] = await pair(path, listener);
  await using _c = client;
  await using _s = server;
  await rejectsWith(server.read(100, { timeout: 20 }), "timeout");
  await client.writeAll("abc");
  assertEquals(decoder.decode((await server.read(100, { timeout: 2000 }))!), "abc");
});
