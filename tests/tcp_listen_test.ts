import assert from "node:assert/strict";
import { connect, listen, type TcpStream } from "../tcp/mod.ts";
import { pollable } from "../mod.ts";
import { assertCode, bytes, failure, run } from "./_tcp_helpers.ts";

Deno.test("listen defaults to 0.0.0.0 and any port; string forms parse like parseAddress", async () => {
  {
    await using listener = listen();
    assert.equal(listener.addr.hostname, "0.0.0.0");
    assert.equal(listener.addr.transport, "tcp");
    assert.ok(listener.addr.port > 0);
    await using client = await connect("127.0.0.1", listener.addr.port);
    await using server = await listener.accept();
    assert.equal(server.remoteAddr.port, client.localAddr.port);
  }
  const forms: [string, string][] = [
    ["127.0.0.1:0", "127.0.0.1"],
    ["127.0.0.1", "127.0.0.1"],
    ["[::1]:0", "::1"],
    [":0", "0.0.0.0"],
    ["2130706433:0", "127.0.0.1"],
  ];
  for (const [form, hostname] of forms) {
    await using listener = listen(form);
    assert.equal(listener.addr.hostname, hostname, form);
    assert.ok(listener.addr.port > 0, form);
  }
  await using v6 = listen({ hostname: "::1", backlog: 8 });
  assert.equal(v6.addr.hostname, "::1");
});

Deno.test("listen rejects bad input with invalid_argument naming the field", () => {
  const cases: [string, () => unknown, string][] = [
    ["port 70000", () => listen({ port: 70000 }), "port"],
    ["port -1", () => listen({ port: -1 }), "port"],
    ["port 1.5", () => listen({ port: 1.5 }), "port"],
    ["empty hostname", () => listen({ hostname: "" }), "hostname"],
    ["bad hostname", () => listen({ hostname: "bad host" }), "hostname"],
    ["backlog 0", () => listen({ backlog: 0 }), "backlog"],
    ["backlog 1.5", () => listen({ backlog: 1.5 }), "backlog"],
    // @ts-expect-error: checking the runtime guard
    ["reusePort not boolean", () => listen({ reusePort: "yes" }), "reusePort"],
    // @ts-expect-error: checking the runtime guard
    ["unknown option", () => listen({ host: "127.0.0.1" }), "host"],
    ["malformed string", () => listen("127.0.0.1:99999"), "address"],
    ["three colons", () => listen("1:2:3:4:5"), "address"],
    [
      "hostname with a string address",
      // @ts-expect-error: checking the runtime guard
      () => listen("127.0.0.1:0", { hostname: "::1" }),
      "hostname",
    ],
    // @ts-expect-error: checking the runtime guard
    ["options not an object", () => listen(42), "options"],
  ];
  for (const [name, call, field] of cases) {
    let thrown: unknown;
    try {
      call();
    } catch (error) {
      thrown = error;
    }
    assert.ok(thrown !== undefined, `${name}: no error`);
    assertCode(thrown as never, "invalid_argument", field);
    assert.equal((thrown as { op: string }).op, "listen", name);
  }
});

Deno.test("listen on a used port is address_in_use, on 192.0.2.1 address_not_available", async () => {
  await using first = listen({ hostname: "127.0.0.1", port: 0 });
  let error = await failure(() => listen({ hostname: "127.0.0.1", port: first.addr.port }));
  assertCode(error, "address_in_use");
  assert.equal(error.address, `127.0.0.1:${first.addr.port}`);
  error = await failure(() => listen({ hostname: "192.0.2.1", port: 0 }));
  assertCode(error, "address_not_available");
});

Deno.test("reusePort shares a port (with --unstable-net) and is not_supported without it", async () => {
  {
    await using a = listen({ hostname: "127.0.0.1", port: 0, reusePort: true });
    await using b = listen({ hostname: "127.0.0.1", port: a.addr.port, reusePort: true });
    assert.equal(a.addr.port, b.addr.port);
  }
  const dir = await Deno.makeTempDir({ prefix: "netkit-tcp-" });
  try {
    const script = `${dir}/child.ts`;
    const mod = new URL("../tcp/mod.ts", import.meta.url).href;
    await Deno.writeTextFile(
      script,
      `import { listen } from ${JSON.stringify(mod)};
try { listen({ hostname: "127.0.0.1", port: 0, reusePort: true }); console.log("listened"); }
catch (e) { console.log(JSON.stringify({ code: e.code, field: e.field, message: e.message })); }`,
    );
    const { code, stdout, stderr } = await run(Deno.execPath(), [
      "run",
      "--no-config",
      "--allow-net",
      script,
    ]);
    assert.equal(code, 0, stderr);
    const result = JSON.parse(stdout);
    assert.equal(result.code, "not_supported", stdout);
    assert.equal(result.field, "reusePort");
    assert.match(result.message, /--unstable-net/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a timed-out accept consumes nothing: the late connection goes to the next accept", async () => {
  await using listener = listen({ hostname: "127.0.0.1", port: 0 });
  const error = await failure(listener.accept({ timeout: 20 }));
  assertCode(error, "timeout");
  assert.equal(error.op, "accept");
  const controller = new AbortController();
  const aborted = listener.accept({ signal: controller.signal });
  controller.abort("stop");
  assertCode(await failure(aborted), "aborted");
  await using client = await connect("127.0.0.1", listener.addr.port);
  await using server = await listener.accept({ timeout: 5000 });
  assert.equal(server.remoteAddr.port, client.localAddr.port);
  // @ts-expect-error: checking the runtime guard
  assertCode(await failure(listener.accept({ timeout: "1" })), "invalid_argument", "timeout");
});

Deno.test("close rejects a pending accept with closed; asyncDispose frees the port at once", async () => {
  const listener = listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  const pending = failure(listener.accept());
  const second = failure(listener.accept({ timeout: 5000 }));
  assert.equal(listener.closed, false);
  await listener[Symbol.asyncDispose]();
  assert.equal(listener.closed, true);
  assertCode(await pending, "closed");
  assertCode(await second, "closed");
  assertCode(await failure(listener.accept()), "closed");
  assert.equal(listener.close(), false);
  await using again = listen({ hostname: "127.0.0.1", port });
  assert.equal(again.addr.port, port);
});

Deno.test("async iteration yields accepted streams and ends when the listener closes", async () => {
  const listener = listen({ hostname: "127.0.0.1", port: 0 });
  const clients: TcpStream[] = [];
  const served: number[] = [];
  const loop = (async () => {
    for await (const server of listener) {
      served.push(server.remoteAddr.port);
      server.close();
    }
  })();
  for (let i = 0; i < 3; i++) {
    const client = await connect("127.0.0.1", listener.addr.port);
    clients.push(client);
    assert.equal(await client.read(16, { timeout: 5000 }), null); // the server closed it
  }
  await listener[Symbol.asyncDispose]();
  await loop;
  assert.deepEqual(served, clients.map((client) => client.localAddr.port));
  for (const client of clients) client.close();
});

Deno.test("listener noDelay: false leaves Nagle on for accepted streams", async () => {
  await using listener = listen({ hostname: "127.0.0.1", port: 0, noDelay: false });
  await using _client = await connect("127.0.0.1", listener.addr.port);
  await using server = await listener.accept();
  assert.equal(server.getOption("tcp_nodelay"), false);
});

Deno.test("listener readiness: pollRead turns true when a connection waits, without accepting it", async () => {
  await using listener = listen({ hostname: "127.0.0.1", port: 0 });
  const ready = listener[pollable]();
  assert.equal(ready.pollRead(), false);
  assert.equal(ready.pollWrite(), false);
  await using client = await connect("127.0.0.1", listener.addr.port);
  await ready.waitRead();
  assert.equal(ready.pollRead(), true);
  await using server = await listener.accept({ timeout: 5000 });
  assert.equal(server.remoteAddr.port, client.localAddr.port);
  assert.equal(ready.pollRead(), false);
});

Deno.test("500 concurrent echo clients each get every byte back", async () => {
  await using listener = listen({ hostname: "127.0.0.1", port: 0, backlog: 1024 });
  const { port } = listener.addr;
  const clients = 500;
  const handlers: Promise<void>[] = [];
  const serving = (async () => {
    for (let i = 0; i < clients; i++) {
      const server = await listener.accept({ timeout: 30_000 });
      handlers.push((async () => {
        try {
          for await (const chunk of server) await server.writeAll(chunk);
          await server.shutdown("w");
        } finally {
          server.close();
        }
      })());
    }
  })();
  const results = await Promise.all(
    Array.from({ length: clients }, async (_, i) => {
      const payload = bytes(1000 + (i % 7) * 1500, i + 1);
      await using client = await connect("127.0.0.1", port, { timeout: 30_000 });
      const echoed = client.readAll({ timeout: 30_000 });
      await client.writeAll(payload);
      await client.shutdown("w");
      const got = await echoed;
      return got.length === payload.length && got.every((b, j) => b === payload[j]);
    }),
  );
  await serving;
  await Promise.all(handlers);
  assert.equal(results.filter((ok) => ok).length, clients);
});

Deno.test("a connection reset while queued is skipped: accept returns the next one", async () => {
  await using listener = listen({ hostname: "127.0.0.1", port: 0 });
  const python = new Deno.Command("python3", {
    args: [
      "-c",
      `import socket, struct, sys
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
c.close()`,
      String(listener.addr.port),
    ],
    stdin: "null",
    stdout: "null",
    stderr: "inherit",
  });
  assert.equal((await python.output()).code, 0);
  await using client = await connect("127.0.0.1", listener.addr.port);
  await using server = await listener.accept({ timeout: 5000 });
  assert.equal(server.remoteAddr.port, client.localAddr.port);
});
