/**
 * A TcpStream over Deno.connect against one over an adopted descriptor
 * (node:net): 64-byte ping-pong. The bulk helpers are not registered: their
 * first timings (tens of microseconds for 64 MiB) cannot be right and are
 * still to be explained.
 * Run: deno bench -A bench/adopted_bench.ts
 */
import { fdopen } from "../process/mod.ts";
import * as tcp from "../tcp/mod.ts";

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

export async function bulk(adopted: boolean) {
  const { client, server, extra } = await pair(adopted);
  const draining = (async () => {
    let got = 0;
    while (got < BULK) got += (await server.read(65536))!.length;
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

export async function rawBulk() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const client = await Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port });
  const server = await listener.accept();
  listener.close();
  const buffer = new Uint8Array(256 * 1024);
  const draining = (async () => {
    let got = 0;
    while (got < BULK) got += (await server.read(buffer))!;
  })();
  for (let sent = 0; sent < BULK;) sent += await client.write(CHUNK);
  await draining;
  client.close();
  server.close();
}

Deno.bench(
  "TcpStream over Deno.connect, 1000 x 64 B",
  { group: "ping-pong", baseline: true },
  () => pingPong(false),
);
Deno.bench(
  "TcpStream over adopted fd (node:net), 1000 x 64 B",
  { group: "ping-pong" },
  () => pingPong(true),
);
