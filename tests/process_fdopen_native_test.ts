/**
 * fdopen beyond 0–2 (with --allow-ffi): a descriptor of any kind becomes
 * the netkit object of its kind, owning it or a duplicate; children adopt
 * what their parent passed; bad numbers, closed ones and directories fail
 * with their codes; every adopted object closes its descriptor.
 */
import assert from "node:assert/strict";
import { fdopen } from "../process/mod.ts";
import { NetError, Stream } from "../mod.ts";
import * as tcp from "../tcp/mod.ts";
import * as unix from "../unix/mod.ts";
import * as udp from "../udp/mod.ts";
import { rejectsWith } from "./_helpers.ts";
import { tempDir } from "./_unix_util.ts";
import {
  denoChild,
  descriptorOf,
  freeDescriptor,
  isOpen,
  libc,
  O_DIRECTORY,
  O_RDONLY,
  openDescriptors,
  passing,
} from "./_adopt_helpers.ts";

Deno.test("fdopen: a bad n is invalid_argument naming n, before anything else", async () => {
  for (const n of [-1, 1.5, NaN, 2 ** 31, "3", null]) {
    await rejectsWith(() => fdopen(n as number), "invalid_argument", "n");
  }
  await rejectsWith(
    () => fdopen(freeDescriptor(), { duplicate: 1 as unknown as boolean }),
    "invalid_argument",
    "duplicate",
  );
  await rejectsWith(
    () => fdopen(3, { bogus: true } as unknown as { duplicate: boolean }),
    "invalid_argument",
    "bogus",
  );
});

Deno.test("fdopen: a descriptor that is not open is not_found", async () => {
  const fd = freeDescriptor();
  await rejectsWith(() => fdopen(fd), "not_found");
  await rejectsWith(() => fdopen(fd, { duplicate: true }), "not_found");
});

Deno.test("fdopen: a regular file is a Stream that reads it, at the descriptor's offset", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/data.txt`;
  await Deno.writeTextFile(path, "first line\nsecond line\n");
  const before = openDescriptors();
  using c = libc();
  const fd = c.open(path, O_RDONLY);
  assert.ok(fd > 2);
  const stream = fdopen(fd);
  assert.ok(stream instanceof Stream);
  assert.equal(stream.fileno(), fd);
  assert.equal(await stream.readLine(), "first line");
  assert.equal(await stream.readLine(), "second line");
  assert.equal(await stream.read(), null);
  await rejectsWith(stream.write("x"), "not_supported"); // opened read-only
  stream.close();
  assert.equal(isOpen(fd), false, "closing the stream closes the descriptor");
  assert.equal(openDescriptors(), before);
});

Deno.test("fdopen: duplicate: true leaves the original open (sharing its offset)", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/data.txt`;
  await Deno.writeTextFile(path, "0123456789");
  using file = await Deno.open(path);
  const before = openDescriptors();
  const fd = descriptorOf(path)!;
  const stream = fdopen(fd, { duplicate: true });
  assert.ok(stream instanceof Stream);
  assert.notEqual(stream.fileno(), fd);
  assert.equal(new TextDecoder().decode(await stream.readExact(4)), "0123");
  stream.close();
  assert.equal(openDescriptors(), before);
  assert.ok(isOpen(fd));
  // One open file description: the stream read ahead into its buffer (all
  // ten bytes in one read), so the original finds the offset at the end.
  assert.equal(await file.read(new Uint8Array(16)), null);
});

Deno.test("fdopen: a directory is not_supported and stays open", async () => {
  await using dir = await tempDir();
  using c = libc();
  const fd = c.open(dir.path, O_RDONLY | O_DIRECTORY);
  try {
    await rejectsWith(() => fdopen(fd), "not_supported");
    await rejectsWith(() => fdopen(fd, { duplicate: true }), "not_supported");
    assert.ok(isOpen(fd));
  } finally {
    c.close(fd);
  }
});

Deno.test("fdopen: both ends of a pipe, each one way", async () => {
  const before = openDescriptors();
  using c = libc();
  const [readEnd, writeEnd] = c.pipe();
  const reader = fdopen(readEnd);
  const writer = fdopen(writeEnd);
  assert.ok(reader instanceof Stream && writer instanceof Stream);
  await writer.writeAll("through the pipe\n");
  assert.equal(await reader.readLine({ timeout: 5000 }), "through the pipe");
  await rejectsWith(reader.write("x"), "not_supported");
  writer.close();
  assert.equal(await reader.read(100, { timeout: 5000 }), null);
  reader.close();
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(isOpen(readEnd) || isOpen(writeEnd), false);
  assert.equal(openDescriptors(), before);
});

Deno.test("fdopen: a connected TCP stream, duplicated: addresses, I/O, half-close, options", async () => {
  await using listener = tcp.listen({ hostname: "127.0.0.1", port: 0 });
  await using client = await tcp.connect("127.0.0.1", listener.addr.port);
  await using server = await listener.accept();
  const before = openDescriptors();
  const adopted = fdopen(client.fileno(), { duplicate: true });
  assert.ok(adopted instanceof tcp.TcpStream);
  assert.deepEqual(adopted.remoteAddr, { ...client.remoteAddr }); // getpeername
  assert.deepEqual(adopted.localAddr, { ...client.localAddr });
  assert.notEqual(adopted.fileno(), client.fileno());
  assert.equal(adopted.getOption("so_type"), "stream");
  assert.equal(adopted.getOption("tcp_nodelay"), true);
  adopted.setOption("so_keepalive", true);
  assert.equal(client.getOption("so_keepalive"), true, "one socket under both");
  await adopted.writeAll("from the adopted stream\n");
  assert.equal(await server.readLine({ timeout: 5000 }), "from the adopted stream");
  await server.writeAll("to it\n");
  assert.equal(await adopted.readLine({ timeout: 5000 }), "to it");
  await rejectsWith(adopted.read(10, { timeout: 20 }), "timeout");
  await server.writeAll("late\n");
  assert.equal(await adopted.readLine({ timeout: 5000 }), "late", "a timed-out read lost nothing");
  adopted.close();
  assert.equal(openDescriptors(), before);
  // Closing the duplicate did not shut the connection down.
  await client.writeAll("still here\n");
  assert.equal(await server.readLine({ timeout: 5000 }), "still here");
  const second = fdopen(client.fileno(), { duplicate: true }) as tcp.TcpStream;
  await second.shutdown("w");
  assert.equal(await server.read(10, { timeout: 5000 }), null, "shutdown sent FIN");
  second.close();
});

Deno.test("fdopen: a connected unix stream, duplicated: peer, credentials, I/O", async () => {
  await using dir = await tempDir();
  await using listener = await unix.listen(`${dir.path}/s.sock`);
  await using client = await unix.connect(listener.path);
  await using server = await listener.accept();
  const before = openDescriptors();
  const adopted = fdopen(client.fileno(), { duplicate: true });
  assert.ok(adopted instanceof unix.UnixStream);
  assert.equal(adopted.getOption("so_peercred").pid, Deno.pid);
  assert.equal((adopted.remoteAddr as Deno.UnixAddr).transport, "unix");
  await adopted.writeAll("ping\n");
  assert.equal(await server.readLine({ timeout: 5000 }), "ping");
  await server.writeAll("pong\n");
  assert.equal(await adopted.readLine({ timeout: 5000 }), "pong");
  adopted.close();
  assert.equal(openDescriptors(), before);
});

Deno.test("fdopen: a TCP listener's duplicate accepts; closing it leaves the original", async () => {
  await using listener = tcp.listen({ hostname: "127.0.0.1", port: 0 });
  const before = openDescriptors();
  const twin = fdopen(listener.fileno(), { duplicate: true });
  assert.ok(twin instanceof tcp.TcpListener);
  assert.deepEqual(twin.addr, { ...listener.addr });
  assert.equal(twin.getOption("so_acceptconn"), true);
  {
    await using client = await tcp.connect("127.0.0.1", listener.addr.port);
    await using served = await twin.accept({ timeout: 5000 });
    assert.ok(served instanceof tcp.TcpStream);
    assert.equal(served.remoteAddr.port, client.localAddr.port);
    assert.equal(served.getOption("tcp_nodelay"), true);
    assert.ok(served.fileno() > 2);
    await client.writeAll("hello\n");
    assert.equal(await served.readLine({ timeout: 5000 }), "hello");
  }
  await rejectsWith(twin.accept({ timeout: 20 }), "timeout");
  await twin[Symbol.asyncDispose]();
  await rejectsWith(twin.accept(), "closed");
  assert.equal(openDescriptors(), before);
  await using client = await tcp.connect("127.0.0.1", listener.addr.port);
  await using served = await listener.accept({ timeout: 5000 });
  assert.equal(served.remoteAddr.port, client.localAddr.port);
});

Deno.test("fdopen: duplicates of one listener take one queued connection per accept, leaving the rest to the others", async () => {
  await using listener = tcp.listen({ hostname: "127.0.0.1", port: 0 });
  const before = openDescriptors();
  const first = fdopen(listener.fileno(), { duplicate: true }) as tcp.TcpListener;
  const second = fdopen(listener.fileno(), { duplicate: true }) as tcp.TcpListener;
  // Three connections wait in the kernel's queue before anyone accepts.
  const clients = await Promise.all(
    [0, 1, 2].map(() => tcp.connect("127.0.0.1", listener.addr.port)),
  );
  const ports = new Set(clients.map((client) => client.localAddr.port));
  const taken = [
    await first.accept({ timeout: 5000 }),
    await second.accept({ timeout: 5000 }),
    await listener.accept({ timeout: 5000 }),
  ];
  assert.deepEqual(new Set(taken.map((served) => served.remoteAddr.port)), ports);
  await rejectsWith(first.accept({ timeout: 20 }), "timeout");
  for (const stream of [...taken, ...clients]) stream.close();
  await first[Symbol.asyncDispose]();
  await second[Symbol.asyncDispose]();
  assert.equal(openDescriptors(), before);
});

Deno.test("fdopen: a unix listener's duplicate accepts and leaves the path alone", async () => {
  await using dir = await tempDir();
  await using listener = await unix.listen(`${dir.path}/l.sock`);
  const before = openDescriptors();
  const twin = fdopen(listener.fileno(), { duplicate: true });
  assert.ok(twin instanceof unix.UnixListener);
  {
    await using client = await unix.connect(listener.path);
    await using served = await twin.accept({ timeout: 5000 });
    assert.ok(served instanceof unix.UnixStream);
    assert.equal(served.getOption("so_peercred").pid, Deno.pid);
    assert.ok(served.fileno() > 2);
    await client.writeAll("u\n");
    assert.equal(await served.readLine({ timeout: 5000 }), "u");
  }
  await twin[Symbol.asyncDispose]();
  assert.equal(openDescriptors(), before);
  await Deno.lstat(listener.path); // still there
  await using _client = await unix.connect(listener.path);
  await using _served = await listener.accept({ timeout: 5000 });
});

Deno.test("fdopen: datagram sockets over the datagram engine", async () => {
  await using socket = await udp.bind({ hostname: "127.0.0.1", port: 0 });
  await using peer = await udp.bind({ hostname: "127.0.0.1", port: 0 });
  const before = openDescriptors();
  const adopted = fdopen(socket.fileno(), { duplicate: true });
  assert.ok(adopted instanceof udp.UdpSocket);
  assert.deepEqual(adopted.addr, { ...socket.addr });
  await adopted.sendTo("from the adopted socket", "127.0.0.1", peer.addr.port);
  const got = await peer.receive({ timeout: 5000 });
  assert.equal(got.port, socket.addr.port);
  assert.ok(adopted.getOption("so_rcvbuf") > 0);
  await adopted[Symbol.asyncDispose]();
  assert.equal(openDescriptors(), before);

  const name = `@netkit-adopt-${crypto.randomUUID()}`;
  await using bound = await udp.bindUnix(name);
  await using target = await udp.bindUnix(`${name}-target`);
  const dgram = fdopen(bound.fileno(), { duplicate: true });
  assert.ok(dgram instanceof udp.UnixDatagramClient);
  await dgram.sendTo("hi", `${name}-target`);
  const from = await target.receive({ timeout: 5000 });
  assert.equal(from.path, `\0${name.slice(1)}`);
  await dgram[Symbol.asyncDispose]();
});

Deno.test("fdopen: a child adopts the listener at fd 3 and serves", async () => {
  await using child = await passing(["tcp-listen"], denoChild("serve"));
  const ready = await child.next();
  assert.equal(ready.kind, "TcpListener");
  assert.equal(ready.port, child.made[0].port);
  await using client = await tcp.connect("127.0.0.1", child.made[0].port!, { timeout: 5000 });
  await client.writeAll("hello\n");
  assert.equal(await client.readLine({ timeout: 10_000 }), "child: hello");
  assert.deepEqual(await child.next(), { done: true });
  const { code, stderr } = await child.done();
  assert.equal(code, 0, stderr);
});

for (const family of ["tcp", "unix"] as const) {
  Deno.test(`fdopen: a child adopts a connected ${family} stream at fd 3 and talks on it`, async () => {
    await using dir = await tempDir();
    await using listener = family === "tcp"
      ? tcp.listen({ hostname: "127.0.0.1", port: 0 })
      : await unix.listen(`${dir.path}/c.sock`);
    const spec = listener instanceof tcp.TcpListener
      ? `tcp-connect:${listener.addr.port}`
      : `unix-connect:${(listener as unix.UnixListener).path}`;
    await using child = await passing([spec], denoChild("stream"));
    await using server = await listener.accept({ timeout: 10_000 });
    const report = await child.next();
    assert.equal(report.kind, family === "tcp" ? "TcpStream" : "UnixStream");
    assert.equal(report.type, "stream");
    if (server instanceof tcp.TcpStream) {
      // The child's peer is our listener; its own address is the peer we accepted.
      assert.deepEqual(report.remote, { ...server.localAddr });
      assert.deepEqual(report.local, { ...server.remoteAddr });
    }
    assert.equal(await server.readLine({ timeout: 10_000 }), "from the child");
    await server.writeAll("from the parent\n");
    assert.equal(await server.readLine({ timeout: 10_000 }), "echo: from the parent");
    assert.equal(await server.read(10, { timeout: 10_000 }), null);
    server.close();
    assert.deepEqual(await child.next(), { rest: null });
    const { code, stderr } = await child.done();
    assert.equal(code, 0, stderr);
  });
}

Deno.test("fdopen without --allow-ffi: not_supported naming the flag; validation unchanged", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-env", "--allow-net", ...denoChild("noffi").slice(3)],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, stderr);
  const report = JSON.parse(new TextDecoder().decode(output.stdout));
  for (const key of ["fdopen", "duplicate", "socket"]) {
    assert.equal(report[key].code, "not_supported", key);
    assert.match(report[key].message, /--allow-ffi/, key);
  }
  assert.deepEqual([report.badN.code, report.badN.field], ["invalid_argument", "n"]);
  assert.deepEqual([report.badOption.code, report.badOption.field], [
    "invalid_argument",
    "duplicate",
  ]);
  assert.deepEqual([report.badFamily.code, report.badFamily.field], [
    "invalid_argument",
    "family",
  ]);
  assert.equal(report.stdout.value, "Stream");
  assert.equal(report.listenFds.value, "Array");
});

Deno.test("fdopen: NetError carries the descriptor as its address", () => {
  const fd = freeDescriptor();
  try {
    fdopen(fd);
    assert.fail("fdopen of a closed descriptor succeeded");
  } catch (error) {
    assert.ok(error instanceof NetError);
    assert.equal(error.address, `fd ${fd}`);
    assert.equal(error.op, "fdopen");
  }
});
