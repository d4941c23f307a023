import assert from "node:assert/strict";
import { errorCodeOf, NetError } from "../common/errors.ts";
import { toNetError } from "../common/_errors.ts";
import { resetPeer } from "./_helpers.ts";

async function codeOf(action: () => unknown): Promise<NetError> {
  try {
    await action();
  } catch (error) {
    return toNetError(error, "test", "somewhere");
  }
  assert.fail("expected the action to fail");
}

Deno.test("a refused TCP connect maps to connection_refused with the cause kept", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  const error = await codeOf(() => Deno.connect({ hostname: "127.0.0.1", port }));
  assert.equal(error.code, "connection_refused");
  assert.ok(error.cause instanceof Deno.errors.ConnectionRefused);
  assert.equal(error.op, "test");
  assert.equal(error.address, "somewhere");
  assert.match(error.message, /^test somewhere: connection refused/);
});

Deno.test("a missing unix path maps to not_found", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const error = await codeOf(() => Deno.connect({ transport: "unix", path: `${dir}/none` }));
    assert.equal(error.code, "not_found");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a port in use maps to address_in_use", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const error = await codeOf(() =>
      Deno.listen({ hostname: "127.0.0.1", port: listener.addr.port })
    );
    assert.equal(error.code, "address_in_use");
  } finally {
    listener.close();
  }
});

Deno.test("a non-local address maps to address_not_available", async () => {
  const error = await codeOf(() => Deno.listen({ hostname: "192.0.2.1", port: 0 }));
  assert.equal(error.code, "address_not_available");
});

Deno.test("a write to a closed unix peer maps to broken_pipe", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/s.sock`;
  const listener = Deno.listen({ transport: "unix", path });
  try {
    const [client, server] = await Promise.all([
      Deno.connect({ transport: "unix", path }),
      listener.accept(),
    ]);
    server.close();
    const error = await codeOf(() => client.write(new Uint8Array(10)));
    client.close();
    assert.equal(error.code, "broken_pipe");
  } finally {
    listener.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("operations after our own close map to closed", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const [client, server] = await Promise.all([
      Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port }),
      listener.accept(),
    ]);
    const pending = client.read(new Uint8Array(8));
    client.close();
    assert.equal((await codeOf(() => pending)).code, "closed");
    assert.equal((await codeOf(() => client.write(new Uint8Array(1)))).code, "closed");
    server.close();
  } finally {
    listener.close();
  }
});

Deno.test("a missing permission maps to access_denied and names the flag", async () => {
  const script = `
    import { toNetError } from ${
    JSON.stringify(new URL("../common/_errors.ts", import.meta.url).href)
  };
    try { await Deno.connect({ hostname: "127.0.0.1", port: 9 }); }
    catch (e) { const n = toNetError(e, "connect", "127.0.0.1:9"); console.log(JSON.stringify({ code: n.code, message: n.message })); }
  `;
  const dir = await Deno.makeTempDir();
  const file = `${dir}/probe.ts`;
  await Deno.writeTextFile(file, script);
  const { stdout, success } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", "--allow-read", file],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  await Deno.remove(dir, { recursive: true });
  assert.ok(success);
  const result = JSON.parse(new TextDecoder().decode(stdout));
  assert.equal(result.code, "access_denied");
  assert.match(result.message, /--allow-net/);
});

Deno.test("errno names, Deno classes and (os error N) messages all map", () => {
  const withCode = (message: string, code?: string) => Object.assign(new Error(message), { code });
  const cases: [unknown, string][] = [
    [new Deno.errors.ConnectionReset("x"), "connection_reset"],
    [new Deno.errors.BrokenPipe("x"), "broken_pipe"],
    [new Deno.errors.NotFound("x"), "not_found"],
    [new Deno.errors.PermissionDenied("x"), "access_denied"],
    [new Deno.errors.NotCapable("x"), "access_denied"],
    [new Deno.errors.TimedOut("x"), "timeout"],
    [new Deno.errors.AddrNotAvailable("x"), "address_not_available"],
    [new Deno.errors.NotConnected("x"), "closed"],
    [new Deno.errors.Interrupted("x"), "closed"],
    [new Deno.errors.BadResource("x"), "closed"],
    [new Deno.errors.UnexpectedEof("x"), "unexpected_eof"],
    [new Deno.errors.InvalidData("x"), "invalid_argument"],
    [withCode("Message too long (os error 90)"), "invalid_argument"],
    [withCode("Too many open files (os error 24)", "EMFILE"), "resource_exhausted"],
    [withCode("Protocol wrong type for socket (os error 91)"), "invalid_argument"],
    [withCode("No such device (os error 19)"), "address_not_available"],
    [withCode("getaddrinfo ENOTFOUND nowhere.invalid", "ENOTFOUND"), "name_not_resolved"],
    [
      new Error("failed to lookup address information: Name or service not known"),
      "name_not_resolved",
    ],
    [new RangeError("Invalid port (out of range): 70000"), "invalid_argument"],
    [new DOMException("aborted", "AbortError"), "aborted"],
    ["a string", "unknown"],
  ];
  for (const [error, code] of cases) assert.equal(errorCodeOf(error), code, String(error));
});

Deno.test("a NetError passes through toNetError unchanged", () => {
  const original = new NetError("timeout", "late", { op: "read" });
  assert.equal(toNetError(original, "other"), original);
});

Deno.test("a reset peer surfaces through the Stream as connection_reset", async () => {
  const { stream, done } = await resetPeer("");
  await done;
  const error = await codeOf(() => stream.read());
  stream.close();
  assert.equal(error.code, "connection_reset");
});
