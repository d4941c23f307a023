/**
 * The native layer (`--allow-ffi`, which `deno test -A` grants): descriptors
 * that match the kernel's own tables, every socket option set and read back,
 * abortive closes seen by real peers, discovery among many sockets, unix
 * streams told apart, and the unix backlog.
 */
import assert from "node:assert/strict";
import { nativeSupport, NetError } from "../mod.ts";
import * as tcp from "../tcp/mod.ts";
import * as unix from "../unix/mod.ts";
import * as udp from "../udp/mod.ts";
import { rejectsWith } from "./_helpers.ts";
import { tcpPair } from "./_tcp_helpers.ts";
import { tempDir } from "./_unix_util.ts";
import { makeCerts, tlsServer } from "./_tls_helpers.ts";
import {
  inetTable,
  loopbackSockaddr,
  pendingReader,
  PID_CLIENT,
  socketInode,
  testLibc,
  unixTable,
} from "./_native_helpers.ts";

/** Calls `work` and returns the NetError it throws (failing when it does not). */
function thrown(work: () => unknown): NetError {
  try {
    work();
  } catch (error) {
    assert.ok(error instanceof NetError, String(error));
    return error;
  }
  assert.fail("expected a NetError");
}

function throwsCode(work: () => unknown, code: string, field?: string): NetError {
  const error = thrown(work);
  assert.equal(error.code, code, error.message);
  if (field !== undefined) assert.equal(error.field, field, error.message);
  return error;
}

Deno.test("nativeSupport: available with --allow-ffi on Linux", () => {
  assert.deepEqual(nativeSupport(), { available: true });
});

// --- descriptors -------------------------------------------------------------

Deno.test("fileno: TCP streams and listeners are the kernel's sockets of their addresses", async () => {
  await using pair = await tcpPair();
  const { client, server, listener } = pair;
  const rows = inetTable("tcp");
  const row = (local: Deno.NetAddr, remotePort: number) =>
    rows.find((r) => r.local.port === local.port && r.remote.port === remotePort)!;
  assert.equal(socketInode(client.fileno()), row(client.localAddr, server.localAddr.port).inode);
  assert.equal(socketInode(server.fileno()), row(server.localAddr, client.localAddr.port).inode);
  assert.equal(socketInode(listener.fileno()), row(listener.addr, 0).inode);
  assert.equal(client.fileno(), client.fileno()); // remembered
  client.close();
  listener.close();
  throwsCode(() => client.fileno(), "closed");
  throwsCode(() => client.getOption("so_rcvbuf"), "closed");
  throwsCode(() => listener.fileno(), "closed");
});

Deno.test("fileno: UDP and unix datagram sockets", async () => {
  await using socket = await udp.bind({ hostname: "127.0.0.1", port: 0 });
  const row = inetTable("udp").find((r) => r.local.port === socket.addr.port)!;
  assert.equal(socketInode(socket.fileno()), row.inode);
  await using dir = await tempDir();
  await using dgram = await udp.bindUnix(`${dir.path}/d.sock`);
  const inode = socketInode(dgram.fileno())!;
  assert.ok(unixTable().some((r) => r.inode === inode && r.path !== null));
  dgram.close();
  throwsCode(() => dgram.fileno(), "closed");
});

Deno.test("fileno: unix listener, accepted and connected streams are three different sockets", async () => {
  await using dir = await tempDir();
  await using listener = await unix.listen(`${dir.path}/x.sock`);
  await using client = await unix.connect(listener.path);
  await using server = await listener.accept();
  const table = unixTable();
  const pathOf = (fd: number) => table.find((r) => r.inode === socketInode(fd))!.path;
  const named = pathOf(listener.fileno());
  assert.ok(named !== null && named.includes("x.sock"), String(named));
  assert.equal(pathOf(server.fileno()), named); // accepted sockets carry the listener's name
  assert.equal(pathOf(client.fileno()), null); // the client is unnamed
  assert.equal(new Set([listener.fileno(), server.fileno(), client.fileno()]).size, 3);
});

// --- abortive close ----------------------------------------------------------

async function withPendingReader(end: (stream: tcp.TcpStream) => void): Promise<string> {
  await using listener = tcp.listen({ hostname: "127.0.0.1", port: 0 });
  const seen = pendingReader(listener.addr.port);
  const stream = await listener.accept();
  await stream.readExact(1); // the peer is connected and about to block in recv
  end(stream);
  return await seen;
}

Deno.test("abort: a python3 peer's pending read sees a reset", async () => {
  assert.equal(await withPendingReader((stream) => stream.abort()), "reset");
});

Deno.test("so_linger 0 then close: the peer sees a reset, not a FIN", async () => {
  const seen = await withPendingReader((stream) => {
    stream.setOption("so_linger", 0);
    assert.equal(stream.getOption("so_linger"), 0);
    stream.close();
  });
  assert.equal(seen, "reset");
});

Deno.test("plain close: the peer sees a clean end of stream", async () => {
  assert.equal(await withPendingReader((stream) => stream.close()), "eof");
  assert.equal(
    await withPendingReader((stream) => {
      stream.setOption("so_linger", 5);
      stream.setOption("so_linger", null);
      stream.close();
    }),
    "eof",
  );
});

Deno.test("abort: a netkit peer's read and later write reject connection_reset; abort twice is harmless", async () => {
  await using pair = await tcpPair();
  const reading = rejectsWith(pair.server.read(), "connection_reset");
  pair.client.abort();
  assert.ok(pair.client.closed);
  pair.client.abort();
  await reading;
  await rejectsWith(pair.server.write("x"), "connection_reset");
});

Deno.test("abort on a unix stream: a reset when unread input is discarded, else end of stream", async () => {
  await using dir = await tempDir();
  await using listener = await unix.listen(`${dir.path}/a.sock`);
  {
    await using client = await unix.connect(listener.path);
    await using server = await listener.accept();
    await client.writeAll("never read");
    const reading = rejectsWith(client.read(), "connection_reset");
    server.abort();
    await reading;
  }
  {
    await using client = await unix.connect(listener.path);
    await using server = await listener.accept();
    server.abort();
    assert.equal(await client.read(), null);
  }
});

// --- every option ------------------------------------------------------------

type Case = [name: string, value: unknown, expected?: unknown];

/** Sets each option and reads it back from the kernel. */
function roundTrips(
  object: { setOption(n: never, v: never): void; getOption(n: never): unknown },
  cases: Case[],
) {
  for (const [name, value, expected = value] of cases) {
    object.setOption(name as never, value as never);
    assert.deepEqual(object.getOption(name as never), expected, `${name} = ${value}`);
  }
}

Deno.test("options of a TCP stream: set and read back from the kernel", async () => {
  await using pair = await tcpPair();
  const { client } = pair;
  roundTrips(client, [
    ["so_rcvbuf", 65536, 131072],
    ["so_sndbuf", 65536, 131072],
    ["so_keepalive", true],
    ["so_keepalive", false],
    ["so_reuseaddr", true],
    ["so_reuseport", true],
    ["so_linger", 7],
    ["so_linger", 0],
    ["so_linger", null],
    ["tcp_nodelay", false],
    ["tcp_nodelay", true],
    ["tcp_keepidle", 30],
    ["tcp_keepintvl", 5],
    ["tcp_keepcnt", 4],
    ["tcp_user_timeout", 12_000],
    ["tcp_congestion", "reno"],
    ["ip_ttl", 17],
    ["ip_tos", 0x10],
  ]);
  assert.equal(client.getOption("so_type"), "stream");
  assert.equal(client.getOption("so_acceptconn"), false);
  assert.equal(client.getOption("so_error"), null);
  assert.equal(client.getOption("o_nonblock"), true);
  // The peer's socket did not change.
  assert.equal(pair.server.getOption("tcp_keepidle"), 7200);
  assert.equal(pair.server.getOption("ip_ttl"), 64);
});

Deno.test("tcp_nodelay and so_keepalive read the kernel once the descriptor is known", async () => {
  await using pair = await tcpPair();
  assert.equal(pair.client.getOption("tcp_nodelay"), true); // deferred until the first write
  pair.client.fileno();
  assert.equal(pair.client.getOption("tcp_nodelay"), true); // applied, then read back
  pair.client.setOption("so_keepalive", true);
  assert.equal(pair.client.getOption("so_keepalive"), true);
});

Deno.test("options of IPv6 TCP sockets and listeners", async () => {
  await using pair = await tcpPair("::1");
  roundTrips(pair.client, [["ipv6_unicast_hops", 9], ["ipv6_unicast_hops", -1, 64]]);
  assert.equal(typeof pair.listener.getOption("ipv6_v6only"), "boolean");
  // Only before bind: the kernel refuses it on a bound socket.
  throwsCode(() => pair.listener.setOption("ipv6_v6only", true), "not_supported");
  throwsCode(() => pair.client.setOption("ip_ttl", 3), "invalid_argument", "name");
  await using dual = tcp.listen({ hostname: "::", port: 0 });
  roundTrips(dual, [["ip_ttl", 33], ["ipv6_unicast_hops", 12]]);
});

Deno.test("options of a TCP listener", async () => {
  await using listener = tcp.listen({ hostname: "127.0.0.1", port: 0 });
  roundTrips(listener, [
    ["so_rcvbuf", 32768, 65536],
    ["so_reuseaddr", true],
    ["so_keepalive", true],
    ["tcp_nodelay", true],
    ["tcp_keepidle", 11],
    ["ip_ttl", 40],
  ]);
  assert.equal(listener.getOption("so_acceptconn"), true);
  assert.equal(listener.getOption("so_type"), "stream");
  throwsCode(
    () => listener.setOption("so_linger" as never, 0 as never),
    "invalid_argument",
    "name",
  );
});

Deno.test("options of UDP sockets (IPv4 and IPv6)", async () => {
  await using v4 = await udp.bind({ hostname: "127.0.0.1", port: 0 });
  roundTrips(v4, [
    ["so_broadcast", false],
    ["so_broadcast", true],
    ["so_reuseaddr", true],
    ["ip_ttl", 5],
    ["ip_tos", 0x08],
    ["ip_multicast_ttl", 4],
    ["ip_multicast_loop", false],
    ["ip_multicast_loop", true],
    ["ip_multicast_if", "127.0.0.1"],
    ["ip_multicast_if", "0.0.0.0"],
  ]);
  assert.equal(v4.getOption("so_type"), "dgram");
  assert.equal(v4.getOption("so_acceptconn"), false);
  throwsCode(() => v4.setOption("ipv6_multicast_hops", 3), "invalid_argument", "name");
  throwsCode(() => v4.getOption("tcp_nodelay"), "invalid_argument", "name");
  await using v6 = await udp.bind({ hostname: "::1", port: 0 });
  roundTrips(v6, [
    ["ipv6_unicast_hops", 3],
    ["ipv6_multicast_hops", 2],
    ["ipv6_multicast_loop", false],
    ["ipv6_multicast_if", 1],
  ]);
  throwsCode(() => v6.setOption("ip_multicast_ttl", 3), "invalid_argument", "name");
});

Deno.test("options of unix streams, listeners and datagram sockets; so_peercred of both ends", async () => {
  await using dir = await tempDir();
  await using listener = await unix.listen(`${dir.path}/o.sock`);
  await using client = await unix.connect(listener.path);
  await using server = await listener.accept();
  roundTrips(client, [["so_sndbuf", 50000, 100000], ["so_linger", 3], ["so_linger", null]]);
  roundTrips(listener, [["so_rcvbuf", 40000, 80000], ["so_reuseaddr", true]]);
  const self = { pid: Deno.pid, uid: Deno.uid(), gid: Deno.gid() };
  assert.deepEqual(server.getOption("so_peercred"), self);
  assert.deepEqual(client.getOption("so_peercred"), self);
  assert.equal(listener.getOption("so_acceptconn"), true);
  throwsCode(() => client.getOption("tcp_nodelay"), "invalid_argument", "name");
  throwsCode(() => listener.getOption("so_peercred"), "invalid_argument", "name");
  await using dgram = await udp.bindUnix(`${dir.path}/g.sock`);
  roundTrips(dgram, [["so_sndbuf", 30000, 60000]]);
  assert.equal(dgram.getOption("so_type"), "dgram");
  throwsCode(() => dgram.setOption("so_broadcast", true), "invalid_argument", "name");
});

Deno.test("so_error reports a refused destination as connection_refused, then clears", async () => {
  await using target = await udp.bind({ hostname: "127.0.0.1", port: 0 });
  const closedPort = target.addr.port;
  target.close();
  await using socket = await udp.bind({ hostname: "127.0.0.1", port: 0 });
  const libc = testLibc();
  try {
    // Connected behind netkit's back, so the kernel keeps the ICMP error on the socket.
    const address = loopbackSockaddr(closedPort);
    assert.equal(libc.symbols.connect(socket.fileno(), address, address.length), 0);
    let error: unknown = null;
    for (let attempt = 0; attempt < 200 && error === null; attempt++) {
      await socket.sendTo("x", "127.0.0.1", closedPort).catch(() => {});
      error = socket.getOption("so_error");
      if (error === null) await new Promise((resolve) => setTimeout(resolve, 0));
    }
    assert.equal(error, "connection_refused");
    assert.equal(socket.getOption("so_error"), null); // reading it cleared it
  } finally {
    libc.close();
  }
});

// --- bad input ---------------------------------------------------------------

Deno.test("bad names, values and read-only options fail before anything native runs", async () => {
  await using pair = await tcpPair();
  const { client } = pair;
  throwsCode(
    () => client.setOption("so_nodelay" as never, true as never),
    "invalid_argument",
    "name",
  );
  throwsCode(() => client.getOption("SO_RCVBUF" as never), "invalid_argument", "name");
  throwsCode(() => client.getOption(42 as never), "invalid_argument", "name");
  throwsCode(() => client.getOption("so_peercred"), "invalid_argument", "name");
  throwsCode(
    () => client.setOption("so_broadcast" as never, true as never),
    "invalid_argument",
    "name",
  );
  for (
    const [name, value] of [
      ["so_rcvbuf", -1],
      ["so_rcvbuf", 1.5],
      ["so_rcvbuf", "4096"],
      ["so_linger", -1],
      ["so_linger", true],
      ["tcp_keepidle", 0],
      ["tcp_keepcnt", 128],
      ["ip_ttl", 256],
      ["ip_ttl", 0],
      ["tcp_congestion", ""],
      ["tcp_congestion", "a\0b"],
      ["tcp_nodelay", 1],
      ["so_keepalive", "yes"],
    ] as [string, unknown][]
  ) {
    throwsCode(() => client.setOption(name as never, value as never), "invalid_argument", "value");
  }
  for (const name of ["so_error", "so_type", "so_acceptconn", "o_nonblock"]) {
    const error = throwsCode(() => client.setOption(name as never, true as never), "not_supported");
    assert.match(error.message, /read-only|non-blocking/);
  }
  client.close();
  throwsCode(() => client.setOption("so_rcvbuf", 4096), "closed");
  throwsCode(() => client.setOption("so_rcvbuf", -1), "invalid_argument", "value");
});

// --- discovery under load ----------------------------------------------------

/** A small seeded generator, so a failure replays. */
function random(seed: number): () => number {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x80000000;
  };
}

Deno.test("discovery: 1,000 connections, options on a random 100, each seen only on its own socket", async () => {
  await using listener = tcp.listen({ hostname: "127.0.0.1", port: 0 });
  const clients: tcp.TcpStream[] = [];
  const servers: tcp.TcpStream[] = [];
  try {
    while (clients.length < 1000) {
      const batch = await Promise.all(
        Array.from({ length: 50 }, () => tcp.connect("127.0.0.1", listener.addr.port)),
      );
      clients.push(...batch);
      for (let i = 0; i < batch.length; i++) servers.push(await listener.accept());
    }
    const next = random(20261202);
    const chosen = new Map<number, number>();
    while (chosen.size < 100) chosen.set(Math.floor(next() * 1000), 100 + chosen.size);
    for (const [index, seconds] of chosen) clients[index].setOption("tcp_keepidle", seconds);
    for (let i = 0; i < 1000; i++) {
      assert.equal(clients[i].getOption("tcp_keepidle"), chosen.get(i) ?? 7200, `client ${i}`);
      assert.equal(servers[i].getOption("tcp_keepidle"), 7200, `server ${i}`);
    }
    assert.equal(new Set(clients.map((c) => c.fileno())).size, 1000);
  } finally {
    for (const stream of [...clients, ...servers]) stream.close();
  }
});

// --- unix streams told apart -------------------------------------------------

Deno.test("unix: streams accepted before anyone asked are ambiguous; after asking, each is identified as it lands", async () => {
  await using dir = await tempDir();
  await using listener = await unix.listen(`${dir.path}/t.sock`);
  const clients = [await unix.connect(listener.path), await unix.connect(listener.path)];
  const early = [await listener.accept(), await listener.accept()];
  try {
    const error = throwsCode(() => early[0].getOption("so_sndbuf"), "not_supported");
    assert.match(error.message, /fileno\(\)/);
    // Asking armed the listener: later accepts are identified, even many at once.
    for (let i = 0; i < 20; i++) clients.push(await unix.connect(listener.path));
    const later: unix.UnixStream[] = [];
    for (let i = 0; i < 20; i++) later.push(await listener.accept());
    try {
      later.forEach((stream, i) => stream.setOption("so_sndbuf", 20000 + i * 1000));
      later.forEach((stream, i) =>
        assert.equal(stream.getOption("so_sndbuf"), (20000 + i * 1000) * 2, `stream ${i}`)
      );
      // Once the other early stream is gone, the one left is certain.
      early[1].close();
      assert.equal(typeof early[0].fileno(), "number");
      assert.notEqual(early[0].getOption("so_sndbuf"), 20000 * 2);
    } finally {
      for (const stream of later) stream.close();
    }
  } finally {
    for (const stream of [...early, ...clients]) stream.close();
  }
});

Deno.test("so_peercred: two child processes on one listener, each stream reports its own child", async () => {
  await using dir = await tempDir();
  await using listener = await unix.listen(`${dir.path}/p.sock`);
  listener.fileno(); // identify every stream as it is accepted
  const children = [0, 1].map(() =>
    new Deno.Command("python3", {
      args: ["-c", PID_CLIENT, listener.path],
      stdin: "null",
      stdout: "null",
      stderr: "inherit",
    }).spawn()
  );
  const streams = [await listener.accept(), await listener.accept()];
  try {
    const said = await Promise.all(streams.map(async (stream) => Number(await stream.readLine())));
    const pids = streams.map((stream) => stream.getOption("so_peercred").pid);
    assert.deepEqual(pids, said);
    assert.deepEqual([...pids].sort(), children.map((child) => child.pid).sort());
  } finally {
    for (const stream of streams) stream.close();
    for (const child of children) await child.status;
  }
});

Deno.test("so_peercred: each stream asked right after its accept, with nothing armed", async () => {
  await using dir = await tempDir();
  await using listener = await unix.listen(`${dir.path}/q.sock`);
  const child = new Deno.Command("python3", {
    args: ["-c", PID_CLIENT, listener.path],
    stdin: "null",
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  await using server = await listener.accept();
  assert.equal(server.getOption("so_peercred").pid, child.pid);
  assert.equal(Number(await server.readLine()), child.pid);
  server.close();
  await child.status;
});

// --- backlog -----------------------------------------------------------------

/** How many connects a listener that never accepts takes before refusing (bounded). */
async function queued(path: string, limit: number): Promise<unix.UnixStream[]> {
  const streams: unix.UnixStream[] = [];
  for (let i = 0; i < limit; i++) {
    try {
      streams.push(await unix.connect(path));
    } catch (error) {
      assert.equal((error as NetError).code, "connection_refused");
      break;
    }
  }
  return streams;
}

Deno.test("unix listen({ backlog }) is the kernel's queue", async () => {
  await using dir = await tempDir();
  {
    await using listener = await unix.listen(`${dir.path}/b.sock`, { backlog: 2 });
    const streams = await queued(listener.path, 50);
    // Linux refuses once more than `backlog` wait.
    assert.equal(streams.length, 3);
    for (const stream of streams) stream.close();
  }
  {
    await using listener = await unix.listen(`${dir.path}/c.sock`);
    const streams = await queued(listener.path, 50);
    assert.equal(streams.length, 50); // Deno's 1024
    for (const stream of streams) stream.close();
  }
});

Deno.test("tcp listen({ backlog }) is the kernel's queue (ss reports it)", async () => {
  await using listener = tcp.listen({ hostname: "127.0.0.1", port: 0, backlog: 7 });
  const out = await new Deno.Command("ss", { args: ["-ltnH", `sport = :${listener.addr.port}`] })
    .output();
  const line = new TextDecoder().decode(out.stdout).trim();
  assert.equal(line.split(/\s+/)[2], "7", line);
});

// --- TLS streams: the TCP socket underneath ----------------------------------

Deno.test("TLS: fileno, options and abort reach the TCP socket under the session; startTls keeps it", async () => {
  const certs = await makeCerts();
  try {
    await using listener = tlsServer(certs.leaf);
    const accepting = listener.accept();
    await using client = await tcp.connectTls("localhost", listener.addr.port, {
      caCerts: [certs.ca],
    });
    await using server = await accepting;
    await client.writeAll("hi\n");
    assert.equal(await server.readLine(), "hi");
    const rows = inetTable("tcp");
    const row = rows.find((r) =>
      r.local.port === client.localAddr.port && r.remote.port === listener.addr.port
    )!;
    assert.equal(socketInode(client.fileno()), row.inode);
    assert.notEqual(server.fileno(), client.fileno());
    assert.equal(listener.getOption("so_acceptconn"), true);
    client.setOption("tcp_keepidle", 42);
    assert.equal(client.getOption("tcp_keepidle"), 42);
    const reading = rejectsWith(server.read(), "connection_reset");
    client.abort();
    await reading;

    // STARTTLS: the plain stream's descriptor becomes the TLS stream's.
    const accepting2 = listener.accept();
    const plain = await tcp.connect("127.0.0.1", listener.addr.port);
    const fd = plain.fileno();
    await using upgraded = await tcp.startTls(plain, {
      caCerts: [certs.ca],
      serverName: "localhost",
    });
    await using accepted = await accepting2;
    await upgraded.writeAll("again\n");
    assert.equal(await accepted.readLine(), "again");
    throwsCode(() => plain.fileno(), "closed");
    assert.equal(upgraded.fileno(), fd);
  } finally {
    await certs.remove();
  }
});
