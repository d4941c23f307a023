/**
 * The native layer (`--allow-ffi`): what finding a descriptor costs the
 * first time (with 10 and with 1,000 other sockets open), and what one
 * `getOption`/`setOption` costs afterwards, next to raw Deno
 * (`conn.setNoDelay`) and to a bare FFI call on the same descriptor.
 * Also the accept of a unix listener whose accepts are tracked (someone
 * asked for a descriptor) against one whose are not. And `resolve` through
 * the runtime's lookup against getaddrinfo on a runtime thread.
 *
 * Run: `deno bench -A bench/native_bench.ts`
 *
 * @module
 */

import { lookup } from "node:dns/promises";
import { resolve } from "../mod.ts";
import * as tcp from "../tcp/mod.ts";
import * as unix from "../unix/mod.ts";

const listener = tcp.listen({ hostname: "127.0.0.1", port: 0 });
const port = listener.addr.port;

async function pair(): Promise<[tcp.TcpStream, tcp.TcpStream]> {
  const [client, server] = await Promise.all([tcp.connect("127.0.0.1", port), listener.accept()]);
  return [client, server];
}

/** The stream whose options are timed; asking once keeps the C library open for all. */
const [client, server] = await pair();
const fd = client.fileno();

/** Sockets opened to make the process's descriptor table bigger. */
const crowd: tcp.TcpStream[] = [];
async function crowdTo(sockets: number): Promise<void> {
  while (crowd.length + 2 < sockets) crowd.push(...await pair());
  while (crowd.length + 2 > sockets && crowd.length > 0) crowd.pop()!.close();
}

for (const sockets of [10, 1000]) {
  Deno.bench({
    name: `first fileno() of a new TCP stream, ${sockets} sockets open`,
    group: "first fileno",
    baseline: sockets === 10,
    async fn(b) {
      await crowdTo(sockets);
      const [a, z] = await pair();
      b.start();
      a.fileno();
      b.end();
      a.close();
      z.close();
    },
  });
}

Deno.bench({
  name: "first fileno() of a new TCP stream, 1000 open, after another's (one scan serves both)",
  group: "first fileno",
  async fn(b) {
    await crowdTo(1000);
    const [a, z] = await pair();
    a.fileno();
    b.start();
    z.fileno();
    b.end();
    a.close();
    z.close();
  },
});

const libc = Deno.dlopen("libc.so.6", {
  getsockopt: { parameters: ["i32", "i32", "i32", "buffer", "buffer"], result: "i32" },
  setsockopt: { parameters: ["i32", "i32", "i32", "buffer", "u32"], result: "i32" },
});
const value = new Int32Array(1);
const length = new Uint32Array(1);
const SOL_SOCKET = 1;
const SO_RCVBUF = 8;
const SO_KEEPALIVE = 9;

Deno.bench({
  name: "bare FFI getsockopt(SO_RCVBUF) on the same descriptor",
  group: "getOption",
  baseline: true,
  fn() {
    length[0] = 4;
    libc.symbols.getsockopt(fd, SOL_SOCKET, SO_RCVBUF, value, length);
  },
});

Deno.bench({
  name: 'netkit getOption("so_rcvbuf") (kernel read, descriptor re-checked)',
  group: "getOption",
  fn() {
    client.getOption("so_rcvbuf");
  },
});

Deno.bench({
  name: 'netkit getOption("tcp_keepidle") (kernel read)',
  group: "getOption",
  fn() {
    client.getOption("tcp_keepidle");
  },
});

Deno.bench({
  name: 'netkit getOption("tcp_nodelay") on a stream never asked natively (no FFI)',
  group: "getOption",
  fn() {
    server.getOption("tcp_nodelay");
  },
});

// The raw Deno conn under its own netkit-less connection.
const rawListener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
const [rawClient, rawServer] = await Promise.all([
  Deno.connect({ hostname: "127.0.0.1", port: rawListener.addr.port }),
  rawListener.accept(),
]);

Deno.bench({
  name: "raw Deno conn.setNoDelay(true)",
  group: "setOption",
  baseline: true,
  fn() {
    rawClient.setNoDelay(true);
  },
});

Deno.bench({
  name: 'netkit setOption("tcp_nodelay", true) (through Deno)',
  group: "setOption",
  fn() {
    client.setOption("tcp_nodelay", true);
  },
});

Deno.bench({
  name: "bare FFI setsockopt(SO_KEEPALIVE)",
  group: "setOption",
  fn() {
    value[0] = 1;
    libc.symbols.setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, value, 4);
  },
});

Deno.bench({
  name: 'netkit setOption("so_rcvbuf", 65536) (FFI, descriptor re-checked)',
  group: "setOption",
  fn() {
    client.setOption("so_rcvbuf", 65536);
  },
});

Deno.bench({
  name: 'netkit setOption("tcp_keepidle", 60) (FFI)',
  group: "setOption",
  fn() {
    client.setOption("tcp_keepidle", 60);
  },
});

// --- resolve: the runtime's lookup, getaddrinfo on a runtime thread ------------
// The C library is held here (the stream above asked for its descriptor), as in
// a program with native sockets open; with nothing holding it, each getaddrinfo
// resolve also opens and closes the library (the platform notes give the cost).

Deno.bench({
  name: 'resolve("localhost") (the runtime\'s lookup)',
  group: "resolve",
  baseline: true,
  async fn() {
    await resolve("localhost");
  },
});

Deno.bench({
  name: 'resolve("localhost", { canonicalName: true }) (getaddrinfo)',
  group: "resolve",
  async fn() {
    await resolve("localhost", { canonicalName: true });
  },
});

Deno.bench({
  name: 'resolve("localhost", { type: "tcp", port: "http" }) (getaddrinfo)',
  group: "resolve",
  async fn() {
    await resolve("localhost", { type: "tcp", port: "http" });
  },
});

Deno.bench({
  name: 'raw node:dns lookup("localhost", { all: true })',
  group: "resolve",
  async fn() {
    await lookup("localhost", { all: true });
  },
});

Deno.bench({
  name: 'raw Deno.resolveDns("localhost", "A")',
  group: "resolve",
  async fn() {
    await Deno.resolveDns("localhost", "A");
  },
});

// --- unix accepts, tracked or not ---------------------------------------------

const dir = await Deno.makeTempDir({ prefix: "netkit-bench-" });
const plain = await unix.listen(`${dir}/plain.sock`);
const tracked = await unix.listen(`${dir}/tracked.sock`);
tracked.fileno(); // from now on each accept identifies its stream
const CYCLES = 200;

async function cycles(path: string, from: unix.UnixListener): Promise<void> {
  for (let i = 0; i < CYCLES; i++) {
    const [a, z] = await Promise.all([unix.connect(path), from.accept()]);
    a.close();
    z.close();
  }
}

Deno.bench({
  name: `${CYCLES} unix connect/accept/close, accepts not tracked`,
  group: "unix accept",
  baseline: true,
  async fn() {
    await crowdTo(10);
    await cycles(plain.path, plain);
  },
});

Deno.bench({
  name: `${CYCLES} unix connect/accept/close, accepts tracked (10 sockets open)`,
  group: "unix accept",
  async fn() {
    await crowdTo(10);
    await cycles(tracked.path, tracked);
  },
});

Deno.bench({
  name: `${CYCLES} unix connect/accept/close, accepts tracked (1000 sockets open)`,
  group: "unix accept",
  async fn() {
    await crowdTo(1000);
    await cycles(tracked.path, tracked);
  },
});

globalThis.addEventListener("unload", () => {
  for (const stream of crowd) stream.close();
  for (const closable of [client, server, rawClient, rawServer, rawListener, plain, tracked]) {
    closable.close();
  }
  listener.close();
  libc.close();
  Deno.removeSync(dir, { recursive: true });
});
