/**
 * `spawn` with socket objects in `files` (with --allow-ffi): the child gets
 * the socket itself at that fd, our object is closed without shutting the
 * child's socket down, nothing sent around the hand-over is lost, and our
 * reactor stops watching it. Without --allow-ffi (a child `deno run`):
 * streams are pumped as before, listeners and datagram sockets are
 * `not_supported` naming the flag.
 */
import assert from "node:assert/strict";
import { spawn } from "../process/mod.ts";
import * as tcp from "../tcp/mod.ts";
import * as udp from "../udp/mod.ts";
import * as unix from "../unix/mod.ts";
import { rejectsWith, tempDir } from "./_unix_util.ts";
import { socketInode, unixTable } from "./_native_helpers.ts";

const CHILD = new URL("./_spawn_sockets_child.ts", import.meta.url).pathname;
const NOFFI_CHILD = new URL("./_spawn_sockets_noffi_child.ts", import.meta.url).pathname;
const ROOT = new URL("..", import.meta.url).pathname;
const DENO_CHILD = (mode: string) => [Deno.execPath(), "run", "-A", CHILD, mode];

/** How many descriptors this process has open. */
function openDescriptors(): number {
  return [...Deno.readDirSync("/proc/self/fd")].length;
}

/** The epoll registrations of this process that name descriptor `fd` (from /proc/self/fdinfo). */
function watching(fd: number): string[] {
  const found: string[] = [];
  for (const entry of Deno.readDirSync("/proc/self/fd")) {
    let link: string;
    try {
      link = Deno.readLinkSync(`/proc/self/fd/${entry.name}`);
    } catch {
      continue;
    }
    if (link !== "anon_inode:[eventpoll]") continue;
    const info = Deno.readTextFileSync(`/proc/self/fdinfo/${entry.name}`);
    for (const line of info.split("\n")) {
      if (new RegExp(`^tfd:\\s+${fd}\\s`).test(line)) found.push(line);
    }
  }
  return found;
}

Deno.test("spawn hands a TCP listener itself to fd 3: the child adopts it with fdopen(3) and serves", async () => {
  const before = openDescriptors();
  const listener = tcp.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  const fd = listener.fileno();
  assert.ok(watching(fd).length > 0, "the runtime watches the listener before the hand-over");
  {
    await using child = await spawn(DENO_CHILD("listener"), {
      files: { 1: "inherit", 2: "inherit", 3: listener },
    });
    assert.equal(listener.closed, true);
    assert.deepEqual(watching(fd), []);
    await rejectsWith(listener.accept(), "closed");
    await using conn = await tcp.connect("127.0.0.1", port);
    assert.equal(await conn.readLine(), `served by ${child.pid}`);
    await conn.shutdown("w");
    assert.deepEqual(await child.wait(), { exited: 0 });
  }
  assert.equal(openDescriptors(), before);
});

Deno.test("spawn hands a unix listener: the child serves on the path, which stays", async () => {
  await using dir = await tempDir();
  const before = openDescriptors();
  const path = `${dir.path}/handed.sock`;
  const listener = await unix.listen(path);
  {
    await using child = await spawn(DENO_CHILD("listener"), {
      files: { 1: "inherit", 2: "inherit", 3: listener },
    });
    assert.equal(listener.closed, true);
    assert.ok((await Deno.lstat(path)).isSocket, "our close left the child's path");
    await using conn = await unix.connect(path);
    assert.equal(await conn.readLine(), `served by ${child.pid}`);
    await conn.shutdown("w");
    assert.deepEqual(await child.wait(), { exited: 0 });
  }
  assert.equal(openDescriptors(), before);
});

/** Hands `server` to a child and talks to it through `client`, with bytes before, during and after. */
async function streamHandOver(
  client: tcp.TcpStream | unix.UnixStream,
  server: tcp.TcpStream | unix.UnixStream,
) {
  const peer = server.remoteAddr;
  const local = server.localAddr;
  await client.writeAll("before\n");
  const starting = spawn(DENO_CHILD("stream"), {
    files: { 1: "piped", 2: "inherit", 3: server },
  });
  // The socket was taken synchronously: these bytes are the child's.
  await client.writeAll("during\n");
  await using child = await starting;
  assert.equal(server.closed, true);
  const report = JSON.parse((await child.stdout.readLine())!);
  await client.writeAll("after\nbye\n");
  const answers = new TextDecoder().decode(await client.readAll());
  assert.equal(answers, "child: before\nchild: during\nchild: after\nchild: bye\n");
  assert.deepEqual(await child.wait(), { exited: 0 });
  return { report, peer, local };
}

Deno.test("spawn hands a connected TcpStream: the child's peer is ours, and no byte is lost", async () => {
  const before = openDescriptors();
  {
    await using listener = tcp.listen({ hostname: "127.0.0.1", port: 0 });
    await using client = await tcp.connect("127.0.0.1", listener.addr.port);
    const server = await listener.accept();
    const fd = server.fileno();
    const { report, peer, local } = await streamHandOver(client, server);
    assert.equal(report.kind, "TcpStream");
    // getpeername in the child: our client's address.
    assert.equal(report.remoteAddr.port, (peer as Deno.NetAddr).port);
    assert.equal(report.remoteAddr.hostname, (peer as Deno.NetAddr).hostname);
    assert.equal(report.remoteAddr.port, client.localAddr.port);
    assert.equal(report.localAddr.port, (local as Deno.NetAddr).port);
    assert.deepEqual(watching(fd), []);
  }
  assert.equal(openDescriptors(), before);
});

Deno.test("spawn hands a connected UnixStream: the child talks on the real socket", async () => {
  await using dir = await tempDir();
  const before = openDescriptors();
  {
    await using listener = await unix.listen(`${dir.path}/s.sock`);
    const client = await unix.connect(`${dir.path}/s.sock`);
    await using server = await listener.accept();
    const listening = socketInode(listener.fileno());
    // The client side goes to the child; we keep the accepted end.
    const { report } = await streamHandOver(server, client);
    assert.equal(report.kind, "UnixStream");
    // getpeername in the child: the kernel's name of our listener (netkit binds through a
    // private name and links the path to it).
    const named = unixTable().filter((row) => row.path === report.remoteAddr.path);
    assert.ok(named.some((row) => row.inode === listening), JSON.stringify(report));
  }
  assert.equal(openDescriptors(), before);
});

Deno.test("spawn hands a UDP socket: the child receives on our port and replies from it", async () => {
  const before = openDescriptors();
  {
    const socket = await udp.bind({ hostname: "127.0.0.1", port: 0 });
    const port = socket.addr.port;
    await using child = await spawn([
      "python3",
      "-c",
      "import socket\ns = socket.socket(fileno=3)\ndata, peer = s.recvfrom(100)\n" +
      "s.sendto(b'child got ' + data, peer)\n",
    ], { files: { 2: "inherit", 3: socket } });
    assert.equal(socket.closed, true);
    await using sender = await udp.bind({ hostname: "127.0.0.1", port: 0 });
    await sender.sendTo("ping", "127.0.0.1", port);
    const reply = await sender.receive();
    assert.equal(new TextDecoder().decode(reply.data), "child got ping");
    assert.equal(reply.port, port);
    assert.deepEqual(await child.wait(), { exited: 0 });
  }
  assert.equal(openDescriptors(), before);
});

Deno.test("spawn refuses a stream whose bytes the runtime already took; the stream stays usable", async () => {
  await using listener = tcp.listen({ hostname: "127.0.0.1", port: 0 });
  await using client = await tcp.connect("127.0.0.1", listener.addr.port);
  await using server = await listener.accept();
  await client.writeAll("hello\n");
  assert.equal((await server.read(1))!.length, 1);
  // Loopback delivers the whole line in one read: the rest is buffered here.
  if (server.buffered > 0) {
    const error = await rejectsWith(
      spawn(["true"], { files: { 3: server } }),
      "invalid_argument",
      "files",
    );
    assert.match(error.message, /buffered/);
  }
  await server.readLine();
  // A read that timed out is still outstanding in the runtime.
  await rejectsWith(server.read(16, { timeout: 10 }), "timeout");
  const error = await rejectsWith(
    spawn(["true"], { files: { 3: server } }),
    "invalid_argument",
    "files",
  );
  assert.match(error.message, /outstanding/);
  assert.equal(server.closed, false);
  await client.writeAll("still ours\n");
  assert.equal(await server.readLine(), "still ours");
});

Deno.test("spawn checks every key before a socket: bad keys and closed sockets are invalid_argument", async () => {
  await using listener = tcp.listen({ hostname: "127.0.0.1", port: 0 });
  await rejectsWith(
    spawn(["true"], { files: { 3: listener, x: 1 } as never }),
    "invalid_argument",
    "files",
  );
  assert.equal(listener.closed, false);
  const closed = tcp.listen({ hostname: "127.0.0.1", port: 0 });
  closed.close();
  await rejectsWith(spawn(["true"], { files: { 3: closed } }), "invalid_argument", "files");
});

Deno.test("spawn: a program that does not exist still closes the handed listener", async () => {
  const before = openDescriptors();
  const listener = tcp.listen({ hostname: "127.0.0.1", port: 0 });
  await rejectsWith(spawn(["/nonexistent/program"], { files: { 3: listener } }), "not_found");
  assert.equal(listener.closed, true);
  assert.equal(openDescriptors(), before);
});

Deno.test("without --allow-ffi: streams are pumped, listeners and datagram sockets not_supported", async () => {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-run", "--allow-read", "--allow-env", NOFFI_CHILD],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(output.stderr);
  assert.equal(output.code, 0, stderr);
  const report = JSON.parse(new TextDecoder().decode(output.stdout));
  assert.equal(report.pumped, "got hello");
  assert.equal(report.listener.code, "not_supported");
  assert.match(report.listener.message, /--allow-ffi/);
  assert.equal(report.listenerOpen, true);
  assert.equal(report.datagram.code, "not_supported");
  assert.match(report.datagram.message, /--allow-ffi/);
  assert.equal(report.badKey.code, "invalid_argument");
  assert.equal(report.badKey.field, "files");
  assert.equal(report.descriptorsBack, true);
});

Deno.test("spawn hands one stream at fds 0 and 1 (inetd style): the child's stdin and stdout are the socket", async () => {
  await using listener = tcp.listen({ hostname: "127.0.0.1", port: 0 });
  await using client = await tcp.connect("127.0.0.1", listener.addr.port);
  const server = await listener.accept();
  await client.writeAll("hello\n");
  await using child = await spawn([
    "sh",
    "-c",
    'read line; echo "got $line"; for n in 0 1; do readlink /proc/$$/fd/$n | cut -c1-7; done',
  ], { files: { 0: server, 1: server, 2: "inherit" } });
  assert.equal(server.closed, true);
  assert.equal(new TextDecoder().decode(await client.readAll()), "got hello\nsocket:\nsocket:\n");
  assert.deepEqual(await child.wait(), { exited: 0 });
});
