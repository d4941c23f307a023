import assert from "node:assert/strict";
import { connect, listen, type TcpStream } from "../tcp/mod.ts";
import { assertCode, failure, freePort, run } from "./_tcp_helpers.ts";

const text = new TextDecoder();

async function roundTrip(client: TcpStream, listenerAccept: Promise<TcpStream>): Promise<string> {
  await using server = await listenerAccept;
  await client.writeAll("ping");
  return text.decode(await server.readExact(4));
}

Deno.test("connect accepts (host, port) and every parseAddress string form, IPv4 and IPv6", async () => {
  await using v4 = listen({ hostname: "127.0.0.1", port: 0 });
  await using v6 = listen({ hostname: "::1", port: 0 });
  const p4 = v4.addr.port;
  const p6 = v6.addr.port;
  const cases: [string, () => Promise<TcpStream>, typeof v4, string][] = [
    ["(host, port)", () => connect("127.0.0.1", p4), v4, "127.0.0.1"],
    ["(v6 host, port)", () => connect("::1", p6), v6, "::1"],
    ["(bracketed v6, port)", () => connect("[::1]", p6), v6, "::1"],
    ["(localhost, port)", () => connect("localhost", p4), v4, "127.0.0.1"],
    ["ip:port", () => connect(`127.0.0.1:${p4}`), v4, "127.0.0.1"],
    ["[v6]:port", () => connect(`[::1]:${p6}`), v6, "::1"],
    ["name:port", () => connect(`localhost:${p4}`), v4, "127.0.0.1"],
    ["numeric ipv4:port", () => connect(`2130706433:${p4}`), v4, "127.0.0.1"],
    [":port (0.0.0.0, this host)", () => connect(`:${p4}`), v4, "127.0.0.1"],
  ];
  for (const [name, open, listener, peer] of cases) {
    const accepted = listener.accept({ timeout: 5000 });
    await using client = await open();
    assert.equal(client.remoteAddr.hostname, peer, name);
    assert.equal(client.remoteAddr.transport, "tcp", name);
    assert.equal(await roundTrip(client, accepted), "ping", name);
  }
});

Deno.test("connect sets TCP_NODELAY by default and honours noDelay and keepAlive", async () => {
  await using listener = listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  {
    await using client = await connect("127.0.0.1", port);
    await using server = await listener.accept();
    assert.equal(client.getOption("tcp_nodelay"), true);
    assert.equal(client.getOption("so_keepalive"), false);
    assert.equal(server.getOption("tcp_nodelay"), true);
  }
  {
    await using client = await connect("127.0.0.1", port, { noDelay: false, keepAlive: true });
    await using _server = await listener.accept();
    assert.equal(client.getOption("tcp_nodelay"), false);
    assert.equal(client.getOption("so_keepalive"), true);
  }
});

Deno.test("connect rejects bad ports, hosts, addresses and options with invalid_argument", async () => {
  const cases: [string, () => Promise<unknown>, string][] = [
    ["port 0", () => connect("127.0.0.1", 0), "port"],
    ["port 70000", () => connect("127.0.0.1", 70000), "port"],
    ["port -1", () => connect("127.0.0.1", -1), "port"],
    ["port 1.5", () => connect("127.0.0.1", 1.5), "port"],
    ["port NaN", () => connect("127.0.0.1", NaN), "port"],
    // @ts-expect-error: a string port is a type error too
    ["port as string", () => connect("127.0.0.1", "80"), "port"],
    ["empty host", () => connect("", 80), "host"],
    ["host with port", () => connect("127.0.0.1:80", 80), "host"],
    ["host with space", () => connect("bad host", 80), "host"],
    ["v6 without brackets and port", () => connect("::1:80"), "port"],
    ["no port in string", () => connect("127.0.0.1"), "port"],
    ["port 99999 in string", () => connect("127.0.0.1:99999"), "address"],
    ["two colons", () => connect("127.0.0.1:80:90"), "address"],
    ["unclosed bracket", () => connect("[::1:80"), "address"],
    ["letters port", () => connect("127.0.0.1:http"), "address"],
    ["empty string", () => connect(""), "port"],
    // @ts-expect-error: checking the runtime guard
    ["not a string", () => connect(80), "address"],
    // @ts-expect-error: checking the runtime guard
    ["unknown option", () => connect("127.0.0.1", 80, { nodelay: true }), "nodelay"],
    // @ts-expect-error: checking the runtime guard
    ["noDelay not boolean", () => connect("127.0.0.1", 80, { noDelay: 1 }), "noDelay"],
    // @ts-expect-error: checking the runtime guard
    ["timeout not number", () => connect("127.0.0.1", 80, { timeout: "1" }), "timeout"],
    ["negative timeout", () => connect("127.0.0.1", 80, { timeout: -1 }), "timeout"],
    // @ts-expect-error: checking the runtime guard
    ["signal not signal", () => connect("127.0.0.1", 80, { signal: {} }), "signal"],
  ];
  for (const [name, call, field] of cases) {
    const error = await failure(call());
    assert.equal(error.code, "invalid_argument", `${name}: ${error.message}`);
    assert.equal(error.field, field, `${name}: ${error.message}`);
    assert.equal(error.op, "connect", name);
  }
});

Deno.test("connect to a closed port rejects connection_refused (IPv4 and IPv6)", async () => {
  for (const host of ["127.0.0.1", "::1"]) {
    const port = await freePort(host);
    const error = await failure(connect(host, port, { timeout: 5000 }));
    assertCode(error, "connection_refused");
    assert.equal(error.op, "connect");
    assert.ok(error.address?.endsWith(`:${port}`), error.message);
  }
});

Deno.test("connect to an unknown host name rejects name_not_resolved", async () => {
  const error = await failure(connect("no-such-host.invalid", 80, { timeout: 10_000 }));
  assertCode(error, "name_not_resolved");
  assert.equal(error.op, "connect");
});

Deno.test("connect times out and aborts on a listener whose backlog is full", async () => {
  await using listener = listen({ hostname: "127.0.0.1", port: 0, backlog: 1 });
  const { port } = listener.addr;
  const fillers: TcpStream[] = [];
  try {
    // Fill the accept queue: connects complete until the kernel drops SYNs.
    let full = false;
    for (let i = 0; i < 64 && !full; i++) {
      try {
        fillers.push(await connect("127.0.0.1", port, { timeout: 250 }));
      } catch (error) {
        assertCode(error as never, "timeout");
        full = true;
      }
    }
    assert.ok(full, "the backlog never filled");

    const timedOut = await failure(connect("127.0.0.1", port, { timeout: 50 }));
    assertCode(timedOut, "timeout");
    assert.equal(timedOut.op, "connect");
    assert.equal(timedOut.address, `127.0.0.1:${port}`);

    const controller = new AbortController();
    const reason = new Error("user gave up");
    const pending = connect(`127.0.0.1:${port}`, { signal: controller.signal });
    setTimeout(() => controller.abort(reason), 20);
    const aborted = await failure(pending);
    assertCode(aborted, "aborted");
    assert.equal(aborted.cause, reason);

    const early = new AbortController();
    early.abort("before");
    const preAborted = await failure(connect("127.0.0.1", port, { signal: early.signal }));
    assertCode(preAborted, "aborted");
    assert.equal(preAborted.cause, "before");

    assertCode(await failure(connect("127.0.0.1", port, { timeout: 0 })), "timeout");
  } finally {
    for (const filler of fillers) filler.close();
  }
});

Deno.test("connect and listen without --allow-net reject access_denied naming the flag", async () => {
  const dir = await Deno.makeTempDir({ prefix: "netkit-tcp-" });
  try {
    const script = `${dir}/child.ts`;
    const mod = new URL("../tcp/mod.ts", import.meta.url).href;
    await Deno.writeTextFile(
      script,
      `import { connect, listen } from ${JSON.stringify(mod)};
const results = [];
for (const attempt of [() => connect("127.0.0.1", 9), () => connect("localhost", 9),
  async () => listen({ hostname: "127.0.0.1", port: 0 })]) {
  try { await attempt(); results.push("succeeded"); }
  catch (e) { results.push({ code: e.code, message: e.message }); }
}
console.log(JSON.stringify(results));`,
    );
    const { code, stdout, stderr } = await run(Deno.execPath(), [
      "run",
      "--no-prompt",
      "--no-config",
      script,
    ]);
    assert.equal(code, 0, stderr);
    const results = JSON.parse(stdout) as { code: string; message: string }[];
    assert.equal(results.length, 3);
    for (const result of results) {
      assert.equal(result.code, "access_denied", JSON.stringify(result));
      assert.match(result.message, /--allow-net/);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
