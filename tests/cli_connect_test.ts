/**
 * `nk connect` (stdio ↔ a socket or a child) against real servers: python3
 * and socat over tcp and unix, exec: children, udp, the idle timeout.
 */
import { deepStrictEqual as assertEquals, match, ok as assert } from "node:assert/strict";
import * as tcp from "../tcp/mod.ts";
import * as udp from "../udp/mod.ts";
import { halfCloseServer, have, nk, Proc } from "./_cli_helpers.ts";

Deno.test("nk connect half-closes: stdin's end reaches a python3 server, its reply comes back", async () => {
  const server = await halfCloseServer();
  await using _server = server.proc;
  const result = await nk(["connect", `tcp:127.0.0.1:${server.port}`, "-v"], {
    input: "hello netkit",
  });
  assertEquals(result.code, 0, result.stderr);
  assertEquals(result.stdout, "got 12 bytes: HELLO NETKIT");
  match(result.stderr, /\[1\] stdio <-> tcp:127\.0\.0\.1:\d+ closed: 12 B ->, 26 B <-, [\d.]+ s/);
  assertEquals((await server.proc.done()).code, 0);
});

Deno.test("nk connect to a python3 server on a unix socket", async () => {
  const dir = await Deno.makeTempDir({ prefix: "netkit-cli-" });
  try {
    const server = await halfCloseServer(`${dir}/py.sock`);
    await using _server = server.proc;
    const result = await nk(["connect", `unix:${dir}/py.sock`], { input: "over unix" });
    assertEquals(result.code, 0, result.stderr);
    assertEquals(result.stdout, "got 9 bytes: OVER UNIX");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "nk connect to socat servers over tcp and unix",
  ignore: !have("socat"),
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "netkit-cli-" });
    try {
      await using tcpServer = new Proc("socat", [
        "-d",
        "-d",
        "TCP-LISTEN:0,bind=127.0.0.1",
        "SYSTEM:tr a-z A-Z",
      ]);
      const port = (await tcpServer.waitFor("stderr", /listening on AF=2 127\.0\.0\.1:(\d+)/))[1];
      await using unixServer = new Proc("socat", [
        "-d",
        "-d",
        `UNIX-LISTEN:${dir}/socat.sock`,
        "SYSTEM:rev",
      ]);
      await unixServer.waitFor("stderr", /listening on/);
      const [overTcp, overUnix] = await Promise.all([
        nk(["connect", `tcp:127.0.0.1:${port}`], { input: "shout\n" }),
        nk(["connect", `unix:${dir}/socat.sock`], { input: "stressed\n" }),
      ]);
      assertEquals([overTcp.code, overTcp.stdout], [0, "SHOUT\n"]);
      assertEquals([overUnix.code, overUnix.stdout], [0, "desserts\n"]);
      assertEquals((await tcpServer.done()).code, 0);
      assertEquals((await unixServer.done()).code, 0);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("exec: with cat and with sh -c, as connect and relay peers", async () => {
  const [cat, shell, relayed] = await Promise.all([
    nk(["connect", "exec:cat", "-v"], { input: "through cat" }),
    nk(["connect", `exec:sh -c 'read line; echo "got $line"; echo oops >&2; exit 3'`, "-v"], {
      input: "one\n",
    }),
    nk(["relay", "-", "exec:tr a-z A-Z"], { input: "relayed" }),
  ]);
  assertEquals([cat.code, cat.stdout], [0, "through cat"]);
  match(cat.stderr, /exec:cat\[\d+\] closed: 11 B ->, 11 B <-.*\(exit 0\)/);
  assertEquals([shell.code, shell.stdout], [0, "got one\n"]);
  match(shell.stderr, /^oops$/m); // the child's stderr is ours
  match(shell.stderr, /\(exit 3\)/);
  assertEquals([relayed.code, relayed.stdout], [0, "RELAYED"]);
});

Deno.test("nk connect udp: one datagram out, the echo back, then it ends", async () => {
  await using server = await udp.bind({ hostname: "127.0.0.1", port: 0 });
  const echoing = (async () => {
    const { data, hostname, port } = await server.receive({ timeout: 10_000 });
    await server.sendTo(data, hostname, port);
  })();
  const result = await nk(["connect", `udp:127.0.0.1:${server.addr.port}`, "--timeout", "1000"], {
    input: "ping",
  });
  await echoing;
  assertEquals([result.code, result.stdout], [0, "ping"]);
});

Deno.test("--timeout: a relay with no data either way stops with exit code 4", async () => {
  await using listener = tcp.listen({ hostname: "127.0.0.1", port: 0 });
  // stdin stays open and the server stays silent: only the idle timeout ends it.
  await using client = Proc.nk([
    "connect",
    `tcp:127.0.0.1:${listener.addr.port}`,
    "--timeout",
    "200",
  ], {
    stdin: true,
  });
  await using silent = await listener.accept();
  const result = await client.done();
  assertEquals(result.code, 4, result.stderr);
  match(result.stderr, /no data either way for 200 ms/);
  assert((await silent.read()) === null, "the peer sees end of stream");
});
