/**
 * The workloads of `tls_bench.ts` on Node's own `tls` module, for comparison:
 * bulk transfer of 32 MiB in 64 KiB writes, 2000 round trips of 64 bytes, and
 * 50 handshakes (a fresh connection each, both sides waiting for the
 * handshake). Loopback, TLS 1.3, Nagle off on both sides (netkit's default).
 * Bulk and ping-pong time the transfer only, after the connection is made.
 * The certificate is made with openssl into a temp dir removed at exit.
 *
 * Run: `node bench/node_tls.mjs` (Node 20 or later). It prints the average and
 * the median time per iteration of each workload.
 */

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import tls from "node:tls";

const HOST = "127.0.0.1";
const BULK_BYTES = 32 * 1024 * 1024;
const CHUNK = 64 * 1024;
const PING_ROUNDS = 2000;
const PING_SIZE = 64;
const HANDSHAKES = 50;

/** A CA and a localhost leaf signed by it (as `examples/_tls_cert.ts` makes them). */
function makeCert() {
  const dir = mkdtempSync(join(tmpdir(), "netkit-node-tls-"));
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  const openssl = (args) => execFileSync("openssl", args, { cwd: dir, stdio: "ignore" });
  try {
    openssl([
      "req",
      "-x509",
      ...ec,
      "-keyout",
      "ca.key",
      "-out",
      "ca.pem",
      "-days",
      "1",
      "-subj",
      "/CN=netkit sample CA",
    ]);
    openssl(["req", ...ec, "-keyout", "key.pem", "-out", "leaf.csr", "-subj", "/CN=localhost"]);
    writeFileSync(join(dir, "ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
    openssl([
      "x509",
      "-req",
      "-in",
      "leaf.csr",
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-days",
      "1",
      "-extfile",
      "ext",
      "-out",
      "cert.pem",
    ]);
    const read = (name) => readFileSync(join(dir, name), "utf8");
    return { ca: read("ca.pem"), cert: read("cert.pem"), key: read("key.pem") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const { ca, cert, key } = makeCert();

/** A listening TLS server whose connections go to `onSecure`, once their handshake is done. */
function server(onSecure) {
  const srv = tls.createServer({ cert, key, noDelay: true }, onSecure);
  return new Promise((resolve) => srv.listen(0, HOST, () => resolve(srv)));
}

function connect(port) {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: HOST, port, servername: "localhost", ca: [ca] }, () => {
      socket.setNoDelay(true);
      resolve(socket);
    });
    socket.once("error", reject);
  });
}

function close(srv) {
  return new Promise((resolve) => srv.close(() => resolve()));
}

/** Resolves once `socket` has received `n` more bytes (its data handler counts them). */
function counter(socket) {
  let got = 0;
  let want = Infinity;
  let wake = null;
  socket.on("data", (data) => {
    got += data.length;
    if (got >= want && wake) {
      const resolve = wake;
      wake = null;
      resolve();
    }
  });
  return (n) => {
    if (got >= n) {
      got -= n;
      return Promise.resolve();
    }
    want = n;
    return new Promise((resolve) => {
      wake = () => {
        got -= n;
        want = Infinity;
        resolve();
      };
    });
  };
}

const write = (socket, data) =>
  new Promise((resolve, reject) =>
    socket.write(data, (error) => (error ? reject(error) : resolve()))
  );

async function bulk() {
  let done;
  const received = new Promise((resolve) => (done = resolve));
  const srv = await server((socket) => {
    let got = 0;
    socket.on("data", (data) => {
      got += data.length;
      if (got >= BULK_BYTES) done();
    });
  });
  const client = await connect(srv.address().port);
  const chunk = Buffer.alloc(CHUNK, 7);
  const start = performance.now();
  for (let sent = 0; sent < BULK_BYTES; sent += CHUNK) {
    // Honour backpressure as a writeAll does.
    if (!client.write(chunk)) await new Promise((resolve) => client.once("drain", resolve));
  }
  await received;
  const elapsed = performance.now() - start;
  client.destroy();
  await close(srv);
  return elapsed;
}

async function pingPong() {
  const srv = await server((socket) => {
    socket.setNoDelay(true);
    socket.on("data", (data) => socket.write(data));
  });
  const client = await connect(srv.address().port);
  const readN = counter(client);
  const out = Buffer.alloc(PING_SIZE, 1);
  const start = performance.now();
  for (let i = 0; i < PING_ROUNDS; i++) {
    await write(client, out);
    await readN(PING_SIZE);
  }
  const elapsed = performance.now() - start;
  client.destroy();
  await close(srv);
  return elapsed;
}

async function handshakes() {
  const sockets = [];
  let secured = null;
  const srv = await server((socket) => {
    sockets.push(socket);
    secured?.();
  });
  const start = performance.now(); // the handshakes only, as tls_bench.ts
  for (let i = 0; i < HANDSHAKES; i++) {
    const serverSide = new Promise((resolve) => (secured = resolve));
    const client = await connect(srv.address().port);
    await serverSide;
    client.destroy();
    sockets.pop().destroy();
  }
  const elapsed = performance.now() - start;
  await close(srv);
  return elapsed;
}

async function measure(name, fn, iterations) {
  for (let i = 0; i < 2; i++) await fn(); // warm-up
  const times = [];
  for (let i = 0; i < iterations; i++) {
    const start = performance.now();
    const timed = await fn(); // each times its own work only
    times.push(timed ?? performance.now() - start);
  }
  const average = times.reduce((a, b) => a + b, 0) / times.length;
  const median = [...times].sort((a, b) => a - b)[Math.floor(times.length / 2)];
  console.log(
    `${name.padEnd(32)} avg ${average.toFixed(1).padStart(7)} ms   median ${
      median.toFixed(1).padStart(7)
    } ms   (${iterations} iterations)`,
  );
}

console.log(`node ${process.version} tls, ${new Date().toISOString()}`);
await measure("node TLS bulk 32 MiB", bulk, 20);
await measure("node TLS ping-pong 64 B", pingPong, 20);
await measure(`node TLS ${HANDSHAKES} handshakes`, handshakes, 10);
