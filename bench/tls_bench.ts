/**
 * netkit TLS vs raw Deno `connectTls`/`listenTls`, same workload in each
 * group (raw Deno is the baseline): bulk transfer, 64-byte ping-pong and
 * handshakes per second. The certificate is made at start-up with openssl
 * into a temp dir that is removed at exit. Each netkit case runs twice: with
 * the CA among the runtime's roots (the client then runs on Deno's own TLS)
 * and with `caCerts` (on `node:tls`); see docs/tls.md.
 *
 * Run: `deno bench -A bench/tls_bench.ts`, or without `--allow-ffi`:
 * `deno bench --allow-net --allow-read --allow-write --allow-env --allow-run
 * bench/tls_bench.ts`. Bulk moves 32 MiB per iteration (the ratio does not
 * depend on the size; 256 MiB runs are too slow for a shared CI machine).
 * Every case times the work only: the listener, and for bulk and ping-pong
 * the connection and its handshake, are made before the clock starts (with
 * `--allow-ffi` a netkit listener's first socket option binds its C library
 * calls, about 3 ms; see docs/platform-notes.md).
 *
 * The raw handshake baseline is what `Deno.connectTls` gives: its socket
 * keeps Nagle's algorithm on (a `TlsConn` has no `setNoDelay`), and the
 * server's `handshake()` settles about 40 ms after the client's (the client's
 * last flight waits for a delayed ACK). The startTls case shows the same
 * handshake over a `TcpConn` with `setNoDelay(true)`. `bench/node_tls.mjs`
 * runs the three workloads on Node's `tls`.
 *
 * @module
 */

import { connectTls, listenTls } from "../tcp/mod.ts";
import { sampleCert } from "../examples/_tls_cert.ts";
import { rawReadExact } from "./_raw.ts";

const HOST = "127.0.0.1";
const BULK_BYTES = 32 * 1024 * 1024;
const CHUNK = 64 * 1024;
const PING_ROUNDS = 2000;
const PING_SIZE = 64;
const HANDSHAKES = 50;

const pem = await sampleCert();
const { ca, cert, key } = pem;
// netkit's client runs on Deno's own TLS when it trusts the runtime's roots, and on node:tls
// with `caCerts` (which it trusts exactly): both are measured. The CA joins the runtime's roots
// through DENO_CERT, which Deno reads at the first TLS handshake of the process.
const caFile = await Deno.makeTempFile({ suffix: ".pem" });
await Deno.writeTextFile(caFile, ca);
Deno.env.set("DENO_CERT", caFile);
globalThis.addEventListener("unload", () => {
  Deno.removeSync(caFile);
  void pem[Symbol.asyncDispose]();
});

/** The two ways a netkit client trusts the CA, and which engine each puts it on. */
const TRUSTS: [string, { caCerts?: string[] }][] = [
  ["runtime roots: Deno's engine", {}],
  ["caCerts: node:tls engine", { caCerts: [ca] }],
];

async function rawWriteAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let written = 0;
  while (written < data.length) written += await conn.write(data.subarray(written));
}

async function rawPair(): Promise<[Deno.TlsConn, Deno.TlsConn, Deno.TlsListener]> {
  const listener = Deno.listenTls({ hostname: HOST, port: 0, cert, key });
  const [client, server] = await Promise.all([
    Deno.connectTls({ hostname: "localhost", port: listener.addr.port, caCerts: [ca] }),
    listener.accept(),
  ]);
  await Promise.all([client.handshake(), server.handshake()]);
  return [client, server, listener];
}

async function netkitPair(trust: { caCerts?: string[] }) {
  const listener = listenTls({ hostname: HOST, port: 0, cert, key });
  const accepted = listener.accept();
  const client = await connectTls(HOST, listener.addr.port, { ...trust, serverName: "localhost" });
  const server = await accepted;
  await server.handshake();
  return { client, server, listener };
}

const chunk = new Uint8Array(CHUNK).fill(7);

Deno.bench("raw Deno TLS bulk 32 MiB", { group: "tls bulk", baseline: true }, async (ctx) => {
  const [client, server, listener] = await rawPair();
  const sink = new Uint8Array(256 * 1024);
  ctx.start();
  const reading = (async () => {
    let got = 0;
    while (got < BULK_BYTES) got += (await server.read(sink)) ?? 0;
  })();
  for (let sent = 0; sent < BULK_BYTES; sent += CHUNK) await rawWriteAll(client, chunk);
  await reading;
  ctx.end();
  client.close();
  server.close();
  listener.close();
});

for (const [name, trust] of TRUSTS) {
  Deno.bench(`netkit TLS bulk 32 MiB (${name})`, { group: "tls bulk" }, async (ctx) => {
    const { client, server, listener } = await netkitPair(trust);
    ctx.start();
    const reading = (async () => {
      let got = 0;
      while (got < BULK_BYTES) got += (await server.read(256 * 1024))?.length ?? 0;
    })();
    for (let sent = 0; sent < BULK_BYTES; sent += CHUNK) await client.writeAll(chunk);
    await reading;
    ctx.end();
    client.close();
    server.close();
    await listener[Symbol.asyncDispose]();
  });
}

Deno.bench(
  "raw Deno TLS ping-pong 64 B",
  { group: "tls ping-pong", baseline: true },
  async (ctx) => {
    const [client, server, listener] = await rawPair();
    ctx.start();
    const out = new Uint8Array(PING_SIZE);
    const a = new Uint8Array(PING_SIZE);
    const b = new Uint8Array(PING_SIZE);
    const echo = (async () => {
      for (let i = 0; i < PING_ROUNDS; i++) {
        await rawReadExact(server, b);
        await rawWriteAll(server, b);
      }
    })();
    for (let i = 0; i < PING_ROUNDS; i++) {
      await rawWriteAll(client, out);
      await rawReadExact(client, a);
    }
    await echo;
    ctx.end();
    client.close();
    server.close();
    listener.close();
  },
);

for (const [name, trust] of TRUSTS) {
  Deno.bench(`netkit TLS ping-pong 64 B (${name})`, { group: "tls ping-pong" }, async (ctx) => {
    const { client, server, listener } = await netkitPair(trust);
    ctx.start();
    const out = new Uint8Array(PING_SIZE);
    const echo = (async () => {
      for (let i = 0; i < PING_ROUNDS; i++) {
        await server.writeAll(await server.readExact(PING_SIZE));
      }
    })();
    for (let i = 0; i < PING_ROUNDS; i++) {
      await client.writeAll(out);
      await client.readExact(PING_SIZE);
    }
    await echo;
    ctx.end();
    client.close();
    server.close();
    await listener[Symbol.asyncDispose]();
  });
}

Deno.bench(
  `raw Deno TLS ${HANDSHAKES} handshakes`,
  { group: "tls handshakes", baseline: true },
  async (ctx) => {
    const listener = Deno.listenTls({ hostname: HOST, port: 0, cert, key });
    ctx.start();
    for (let i = 0; i < HANDSHAKES; i++) {
      const [client, server] = await Promise.all([
        Deno.connectTls({ hostname: "localhost", port: listener.addr.port, caCerts: [ca] }),
        listener.accept(),
      ]);
      await Promise.all([client.handshake(), server.handshake()]);
      client.close();
      server.close();
    }
    ctx.end();
    listener.close();
  },
);

Deno.bench(
  `raw Deno TLS ${HANDSHAKES} handshakes, startTls over a no-delay TcpConn`,
  { group: "tls handshakes" },
  async (ctx) => {
    const listener = Deno.listenTls({ hostname: HOST, port: 0, cert, key });
    ctx.start();
    for (let i = 0; i < HANDSHAKES; i++) {
      const [tcp, server] = await Promise.all([
        Deno.connect({ hostname: HOST, port: listener.addr.port }),
        listener.accept(),
      ]);
      tcp.setNoDelay(true);
      const client = await Deno.startTls(tcp, { hostname: "localhost", caCerts: [ca] });
      await Promise.all([client.handshake(), server.handshake()]);
      client.close();
      server.close();
    }
    ctx.end();
    listener.close();
  },
);

for (const [name, trust] of TRUSTS) {
  Deno.bench(
    `netkit TLS ${HANDSHAKES} handshakes (${name})`,
    { group: "tls handshakes" },
    async (ctx) => {
      const listener = listenTls({ hostname: HOST, port: 0, cert, key });
      ctx.start();
      for (let i = 0; i < HANDSHAKES; i++) {
        const accepted = listener.accept();
        const client = await connectTls(HOST, listener.addr.port, {
          ...trust,
          serverName: "localhost",
        });
        const server = await accepted;
        await server.handshake();
        client.close();
        server.close();
      }
      ctx.end();
      await listener[Symbol.asyncDispose]();
    },
  );
}
