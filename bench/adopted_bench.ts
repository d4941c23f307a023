/**
 * A TcpStream over Deno.connect against one over an adopted descriptor
 * (`fdopen` of a duplicate, which runs over node:net), with raw Deno.Conn as
 * the baseline: 64 MiB bulk in 64 KiB writes and 1000 ping-pongs of 64 bytes.
 * Run: deno bench -A bench/adopted_bench.ts
 */
import { fdopen } from "../process/mod.ts";
import * as tcp from "../tcp/mod.ts";
import { rawReadExact } from "./_raw.ts";

const BULK = 64 * 1024 * 1024;
const CHUNK = new Uint8Array(64 * 1024);
const PING = new Uint8Array(64);
const ROUNDS = 1000;

async function pair(adopted: boolean) {
  const listener = tcp.listen({ hostname: "127.0.0.1", port: 0 });
  const deno = await tcp.connect("127.0.0.1", listener.addr.port);
  const server = await listener.accept();
  listener.close();
  if (!adopted) return { client: deno, server, extra: null };
  const client = fdopen(deno.fileno(), { duplicate: true }) as tcp.TcpStream;
  return { client, server, extra: deno };
}

async function bulk(adopted: boolean) {
  const { client, server, extra } = await pair(adopted);
  const buffer = new Uint8Array(256 * 1024);
  const draining = (async () => {
    let got = 0;
    while (got < BULK) {
      const n = await server.readInto(buffer);
      if (n === null) throw new Error("early end of stream");
      got += n;
    }
  })();
  for (let sent = 0; sent < BULK; sent += CHUNK.length) await client.writeAll(CHUNK);
  await draining;
  client.close();
  server.close();
  extra?.close();
}

async function pingPong(adopted: boolean) {
  const { client, server, extra } = await pair(adopted);
  const echo = (async () => {
    for (let i = 0; i < ROUNDS; i++) await server.writeAll(await server.readExact(64));
  })();
  for (let i = 0; i < ROUNDS; i++) {
    await client.writeAll(PING);
    await client.readExact(64);
  }
  await echo;
  client.close();
  server.close();
  extra?.close();
}

async function rawPair() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  const server = await listener.accept();
  listener.close();
  client.setNoDelay(true);
  server.setNoDelay(true);
  return { client, server };
}

async function rawBulk() {
  const { client, server } = await rawPair();
  const buffer = new Uint8Array(256 * 1024);
  const draining = (async () => {
    let got = 0;
    while (got < BULK) {
      const n = await server.read(buffer);
      if (n === null) throw new Error("early end of stream");
      got += n;
    }
  })();
  for (let sent = 0; sent < BULK;) sent += await client.write(CHUNK);
  await draining;
  client.close();
  server.close();
}

async function rawPingPong() {
  const { client, server } = await rawPair();
  const echo = (async () => {
    const buffer = new Uint8Array(64);
    for (let i = 0; i < ROUNDS; i++) {
      await rawReadExact(server, buffer);
      await server.write(buffer);
    }
  })();
  const reply = new Uint8Array(64);
  for (let i = 0; i < ROUNDS; i++) {
    await client.write(PING);
    await rawReadExact(client, reply);
  }
  await echo;
  client.close();
  server.close();
}

Deno.bench(
  "raw Deno.Conn, 64 MiB",
  { group: "adopted bulk", baseline: true },
  async () => await rawBulk(),
);
Deno.bench(
  "TcpStream over Deno.connect, 64 MiB",
  { group: "adopted bulk" },
  async () => await bulk(false),
);
Deno.bench(
  "TcpStream over adopted fd (node:net), 64 MiB",
  { group: "adopted bulk" },
  async () => await bulk(true),
);

Deno.bench(
  "raw Deno.Conn, 1000 x 64 B",
  { group: "adopted ping-pong", baseline: true },
  rawPingPong,
);
Deno.bench(
  "TcpStream over Deno.connect, 1000 x 64 B",
  { group: "adopted ping-pong" },
  async () => await pingPong(false),
);
Deno.bench(
  "TcpStream over adopted fd (node:net), 1000 x 64 B",
  { group: "adopted ping-pong" },
  async () => await pingPong(true),
);
