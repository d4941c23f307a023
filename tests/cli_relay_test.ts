/**
 * `nk relay` between real peers: tcp in front of an HTTP server on a unix
 * socket queried by curl, half-close passed through to a python3 server,
 * 100 concurrent connections with every byte verified, --progress.
 */
import { deepStrictEqual as assertEquals, match, ok as assert } from "node:assert/strict";
import * as tcp from "../tcp/mod.ts";
import * as unix from "../unix/mod.ts";
import { halfCloseServer, have, Proc, randomBytes, runProgram } from "./_cli_helpers.ts";

Deno.test({
  name: "nk relay tcp-listen: → unix: in front of an HTTP server on a unix socket, queried by curl",
  ignore: !have("curl"),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "netkit-cli-" });
    try {
      const path = `${dir}/web.sock`;
      await using _web = await unix.serve(path, async (request) => {
        const body = request.method === "POST" ? await request.text() : "";
        return new Response(`${request.method} ${new URL(request.url).pathname} ${body}\n`);
      });
      await using relay = Proc.nk(["relay", "-v", "tcp-listen:127.0.0.1:0", `unix:${path}`]);
      const port = await relay.listeningPort();
      const curl = await runProgram("curl", [
        "-sS",
        "--data-binary",
        "payload",
        `http://127.0.0.1:${port}/hello`,
      ]);
      assertEquals([curl.code, curl.stdout], [0, "POST /hello payload\n"]);
      const result = await relay.done();
      assertEquals(result.code, 0, result.stderr);
      match(result.stderr, /\[1\] tcp:127\.0\.0\.1:\d+ <-> unix:\S+web\.sock closed: \d+ B ->/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("nk relay passes half-close through: the client's FIN reaches python3, the reply comes back", async () => {
  const server = await halfCloseServer();
  await using _server = server.proc;
  await using relay = Proc.nk([
    "relay",
    "-v",
    "tcp-listen:127.0.0.1:0",
    `tcp:127.0.0.1:${server.port}`,
  ]);
  const port = await relay.listeningPort();
  await using client = await tcp.connect("127.0.0.1", port);
  await client.writeAll("half");
  await client.shutdown("w");
  assertEquals(new TextDecoder().decode(await client.readAll()), "got 4 bytes: HALF");
  client.close();
  assertEquals((await relay.done()).code, 0);
  assertEquals((await server.proc.done()).code, 0);
});

Deno.test("100 concurrent connections through nk relay --fork, every byte verified", async () => {
  const CLIENTS = 100;
  const SIZE = 32 * 1024;
  await using echo = tcp.listen({ hostname: "127.0.0.1", port: 0 });
  const echoing = (async () => {
    const sessions: Promise<void>[] = [];
    for (let i = 0; i < CLIENTS; i++) {
      const stream = await echo.accept();
      sessions.push((async () => {
        for await (const chunk of stream) await stream.writeAll(chunk);
        await stream.shutdown("w");
        stream.close();
      })());
    }
    await Promise.all(sessions);
  })();
  await using relay = Proc.nk([
    "relay",
    "--fork",
    "-v",
    "--progress",
    "tcp-listen:127.0.0.1:0",
    `tcp:127.0.0.1:${echo.addr.port}`,
  ]);
  const port = await relay.listeningPort();
  const payloads = Array.from({ length: CLIENTS }, () => randomBytes(SIZE));
  const echoed = await Promise.all(payloads.map(async (payload) => {
    await using client = await tcp.connect("127.0.0.1", port);
    const reading = client.readAll();
    await client.writeAll(payload);
    await client.shutdown("w");
    return await reading;
  }));
  for (const [i, got] of echoed.entries()) {
    assert(
      got.length === SIZE && got.every((b, j) => b === payloads[i][j]),
      `client ${i} bytes differ`,
    );
  }
  await echoing;
  const closedLine = new RegExp(`closed: ${SIZE} B ->, ${SIZE} B <-`, "g");
  await relay.waitForCount("stderr", closedLine, CLIENTS);
  relay.kill("SIGINT");
  const result = await relay.done();
  assertEquals(result.code, 130);
  assertEquals(result.stderr.match(/closed: /g)?.length, CLIENTS);
  match(result.stderr, /nk: 6\.3 MiB in [\d.]+ s, [\d.]+ \w+\/s\n$/); // the final progress line
});
