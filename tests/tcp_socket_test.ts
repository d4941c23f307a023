/**
 * tcp.socket(): an unbound socket with options set before use, bound to a
 * chosen port, then connected (the server sees that source port) or
 * listening; bad input named; without --allow-ffi not_supported.
 */
import assert from "node:assert/strict";
import * as tcp from "../tcp/mod.ts";
import { rejectsWith } from "./_helpers.ts";
import { denoChild, isOpen, openDescriptors } from "./_adopt_helpers.ts";

/** A port nothing listens on now (the kernel's pick, released). */
function freePort(): number {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (probe.addr as Deno.NetAddr).port;
  probe.close();
  return port;
}

Deno.test("tcp.socket: bind a chosen port, so_rcvbuf before connect, the server sees the port", async () => {
  await using listener = tcp.listen({ hostname: "127.0.0.1", port: 0 });
  const before = openDescriptors();
  const port = freePort();
  const sock = tcp.socket();
  const fd = sock.fileno();
  sock.setOption("so_rcvbuf", 65536);
  assert.equal(sock.getOption("so_rcvbuf"), 131072);
  sock.setOption("so_reuseaddr", true);
  sock.bind(`127.0.0.1:${port}`);
  assert.deepEqual(sock.localAddr, { transport: "tcp", hostname: "127.0.0.1", port });
  const client = await sock.connect("127.0.0.1", listener.addr.port, { timeout: 5000 });
  assert.ok(sock.closed, "the descriptor went to the stream");
  const server = await listener.accept({ timeout: 5000 });
  assert.equal(server.remoteAddr.port, port);
  assert.equal(client.localAddr.port, port);
  assert.equal(client.fileno(), fd);
  assert.equal(client.getOption("so_rcvbuf"), 131072);
  await client.writeAll("hello\n");
  assert.equal(await server.readLine({ timeout: 5000 }), "hello");
  await server.writeAll("back\n");
  assert.equal(await client.readLine({ timeout: 5000 }), "back");
  await client.shutdown("w");
  assert.equal(await server.read(10, { timeout: 5000 }), null);
  client.close();
  server.close();
  sock.close(); // harmless: the stream had it
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(isOpen(fd), false);
  assert.equal(openDescriptors(), before);
});

Deno.test("tcp.socket: listen() from a bound socket accepts", async () => {
  const before = openDescriptors();
  const sock = tcp.socket();
  sock.setOption("so_reuseaddr", true);
  sock.bind("127.0.0.1");
  const port = sock.localAddr!.port;
  const listener = sock.listen(16);
  assert.equal(listener.addr.port, port);
  assert.equal(listener.getOption("so_acceptconn"), true);
  {
    await using client = await tcp.connect("127.0.0.1", port, { timeout: 5000 });
    await using served = await listener.accept({ timeout: 5000 });
    assert.equal(served.remoteAddr.port, client.localAddr.port);
    await served.writeAll("hi\n");
    assert.equal(await client.readLine({ timeout: 5000 }), "hi");
  }
  await listener[Symbol.asyncDispose]();
  assert.equal(openDescriptors(), before);
  // The port is free again.
  const again = tcp.listen({ hostname: "127.0.0.1", port });
  again.close();
});

Deno.test("tcp.socket: inet6, bound to ::1, connects to an IPv6 listener", async () => {
  await using listener = tcp.listen({ hostname: "::1", port: 0 });
  const sock = tcp.socket({ family: "inet6" });
  sock.bind("[::1]:0");
  await using client = await sock.connect("::1", listener.addr.port);
  await using server = await listener.accept({ timeout: 5000 });
  assert.equal(client.remoteAddr.hostname, "::1");
  assert.equal(server.remoteAddr.port, client.localAddr.port);
});

Deno.test("tcp.socket: a refused connect fails connection_refused and closes the socket", async () => {
  const before = openDescriptors();
  const sock = tcp.socket();
  await rejectsWith(sock.connect("127.0.0.1", freePort(), { timeout: 5000 }), "connection_refused");
  assert.ok(sock.closed);
  await rejectsWith(() => sock.fileno(), "closed");
  assert.equal(openDescriptors(), before);
  const aborted = tcp.socket();
  await rejectsWith(
    aborted.connect("127.0.0.1", 80, { signal: AbortSignal.abort() }),
    "aborted",
  );
  assert.equal(aborted.closed, false, "a deadline passed before starting leaves the socket");
  aborted.close();
});

Deno.test("tcp.socket: bad input is invalid_argument naming the field", async () => {
  await rejectsWith(() => tcp.socket({ family: "ipx" as "inet" }), "invalid_argument", "family");
  await using sock = tcp.socket();
  await rejectsWith(() => sock.bind("not an address"), "invalid_argument", "address");
  await rejectsWith(() => sock.bind({ hostname: "localhost" }), "invalid_argument", "hostname");
  await rejectsWith(() => sock.bind("[::1]:0"), "invalid_argument", "hostname");
  await rejectsWith(() => sock.listen(0), "invalid_argument", "backlog");
  await rejectsWith(sock.connect("127.0.0.1", 0), "invalid_argument", "port");
  await rejectsWith(sock.connect("::1", 80), "invalid_argument", "host");
  await rejectsWith(() => sock.setOption("so_bogus" as "so_rcvbuf", 1), "invalid_argument", "name");
  await rejectsWith(() => sock.setOption("so_rcvbuf", -1), "invalid_argument", "value");
  await rejectsWith(() => sock.setOption("so_type" as "so_rcvbuf", 1), "not_supported");
  assert.equal(sock.closed, false);
  sock.close();
  await rejectsWith(() => sock.bind("127.0.0.1"), "closed");
  await rejectsWith(() => sock.getOption("so_rcvbuf"), "closed");
});

Deno.test("tcp.socket without --allow-ffi: not_supported naming the flag", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-env", "--allow-net", ...denoChild("noffi").slice(3)],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(output.code, 0, new TextDecoder().decode(output.stderr));
  const report = JSON.parse(new TextDecoder().decode(output.stdout));
  assert.equal(report.socket.code, "not_supported");
  assert.match(report.socket.message, /--allow-ffi/);
  assert.deepEqual([report.badFamily.code, report.badFamily.field], ["invalid_argument", "family"]);
});
