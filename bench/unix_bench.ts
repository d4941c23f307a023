/**
 * unix: netkit vs raw `Deno.listen`/`Deno.connect` (each group's baseline).
 * Bulk moves 128 MiB per iteration (1 GiB would take too long for a
 * CI-size bench; the ratio is the same), ping-pong 5k × 64 B round trips,
 * and 1k connect/accept/close cycles.
 *
 * Run: `deno bench -A bench/unix_bench.ts`
 *
 * @module
 */

import { connect, listen } from "../unix/mod.ts";
import { rawReadExact } from "./_raw.ts";

const BULK = 128 * 1024 * 1024;
const CHUNK = 64 * 1024;
const ROUNDS = 5_000;
const CYCLES = 1_000;

const dir = await Deno.makeTempDir({ prefix: "netkit-bench-" });
const rawPath = `${dir}/raw.sock`;
const kitPath = `${dir}/kit.sock`;
const rawListener = Deno.listen({ transport: "unix", path: rawPath });
const kitListener = await listen(kitPath);

const [rawClient, rawServer] = await Promise.all([
  Deno.connect({ transport: "unix", path: rawPath }),
  rawListener.accept(),
]);
const [kitClient, kitServer] = await Promise.all([connect(kitPath), kitListener.accept()]);

const chunk = new Uint8Array(CHUNK).fill(7);
const readBuffer = new Uint8Array(CHUNK);

async function rawWriteAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  for (let off = 0; off < data.length;) off += await conn.write(data.subarray(off));
}

async function rawBulk(): Promise<void> {
  const writing = (async () => {
    for (let sent = 0; sent < BULK; sent += CHUNK) await rawWriteAll(rawClient, chunk);
  })();
  for (let got = 0; got < BULK;) {
    const n = await rawServer.read(readBuffer);
    if (n === null) throw new Error("eof");
    got += n;
  }
  await writing;
}

Deno.bench({
  name: "raw Deno: bulk 128 MiB",
  group: "bulk",
  baseline: true,
  n: 3,
  warmup: 1,
  fn: rawBulk,
});

Deno.bench({
  name: "netkit: bulk 128 MiB, readInto",
  group: "bulk",
  n: 3,
  warmup: 1,
  async fn() {
    const writing = (async () => {
      for (let sent = 0; sent < BULK; sent += CHUNK) await kitClient.writeAll(chunk);
    })();
    for (let got = 0; got < BULK;) {
      const n = await kitServer.readInto(readBuffer);
      if (n === null) throw new Error("eof");
      got += n;
    }
    await writing;
  },
});

Deno.bench({
  name: "netkit: bulk 128 MiB, read() (copies out)",
  group: "bulk",
  n: 3,
  warmup: 1,
  async fn() {
    const writing = (async () => {
      for (let sent = 0; sent < BULK; sent += CHUNK) await kitClient.writeAll(chunk);
    })();
    for (let got = 0; got < BULK;) {
      const data = await kitServer.read(CHUNK);
      if (data === null) throw new Error("eof");
      got += data.length;
    }
    await writing;
  },
});

const ping = new Uint8Array(64).fill(1);
const pong = new Uint8Array(64);

Deno.bench({
  name: "raw Deno: ping-pong 5k × 64 B",
  group: "ping-pong",
  baseline: true,
  n: 5,
  warmup: 1,
  async fn() {
    const echo = (async () => {
      const buffer = new Uint8Array(64);
      for (let i = 0; i < ROUNDS; i++) {
        await rawReadExact(rawServer, buffer);
        await rawWriteAll(rawServer, buffer);
      }
    })();
    for (let i = 0; i < ROUNDS; i++) {
      await rawWriteAll(rawClient, ping);
      await rawReadExact(rawClient, pong);
    }
    await echo;
  },
});

Deno.bench({
  name: "netkit: ping-pong 5k × 64 B",
  group: "ping-pong",
  n: 5,
  warmup: 1,
  async fn() {
    const echo = (async () => {
      for (let i = 0; i < ROUNDS; i++) await kitServer.writeAll(await kitServer.readExact(64));
    })();
    for (let i = 0; i < ROUNDS; i++) {
      await kitClient.writeAll(ping);
      await kitClient.readExact(64);
    }
    await echo;
  },
});

Deno.bench({
  name: "raw Deno: 1k connect/accept/close",
  group: "connect",
  baseline: true,
  n: 5,
  warmup: 1,
  async fn() {
    for (let i = 0; i < CYCLES; i++) {
      const [client, server] = await Promise.all([
        Deno.connect({ transport: "unix", path: rawPath }),
        rawListener.accept(),
      ]);
      client.close();
      server.close();
    }
  },
});

Deno.bench({
  name: "netkit: 1k connect/accept/close",
  group: "connect",
  n: 5,
  warmup: 1,
  async fn() {
    for (let i = 0; i < CYCLES; i++) {
      const [client, server] = await Promise.all([connect(kitPath), kitListener.accept()]);
      client.close();
      server.close();
    }
  },
});

globalThis.addEventListener("unload", () => {
  rawClient.close();
  rawServer.close();
  kitClient.close();
  kitServer.close();
  rawListener.close();
  kitListener.close();
  Deno.removeSync(dir, { recursive: true });
});
