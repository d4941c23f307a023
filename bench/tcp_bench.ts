/**
 * netkit tcp vs raw Deno, same workload in each group (raw Deno is the
 * baseline): bulk transfer, 64-byte ping-pong with TCP_NODELAY, connection
 * churn, and length-prefixed frame reading.
 *
 * Run: `deno bench -A bench/tcp_bench.ts`. Bulk moves 128 MiB per iteration
 * (1 GiB would be too slow for a CI-sized bench on 2 shared cores; the ratio does not depend on the size).
 *
 * @module
 */

import { connect, listen } from "../tcp/mod.ts";
import { rawReadExact } from "./_raw.ts";

const HOST = "127.0.0.1";
const BULK_BYTES = 128 * 1024 * 1024;
const CHUNK = 64 * 1024;
const PING_ROUNDS = 5000;
const PING_SIZE = 64;
const CONNECTIONS = 1000;
const FRAMES = 100_000;

// --- raw Deno helpers ---------------------------------------------------------

async function rawPair(noDelay: boolean): Promise<[Deno.TcpConn, Deno.TcpConn, Deno.TcpListener]> {
  const listener = Deno.listen({ hostname: HOST, port: 0 });
  const [client, server] = await Promise.all([
    Deno.connect({ hostname: HOST, port: listener.addr.port }),
    listener.accept(),
  ]);
  if (noDelay) {
    client.setNoDelay(true);
    server.setNoDelay(true);
  }
  return [client, server, listener];
}

async function rawWriteAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let written = 0;
  while (written < data.length) written += await conn.write(data.subarray(written));
}

async function netkitPair() {
  const listener = listen({ hostname: HOST, port: 0 });
  const [client, server] = await Promise.all([
    connect(HOST, listener.addr.port),
    listener.accept(),
  ]);
  return { client, server, listener };
}

/** 4-byte big-endian length + 100..1000 bytes, from a fixed xorshift32 seed. */
function makeFrames(count: number): { data: Uint8Array; total: number } {
  let x = 0x9e3779b9 >>> 0;
  const next = () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
  const lengths: number[] = [];
  let size = 0;
  for (let i = 0; i < count; i++) {
    const len = 100 + (next() % 901);
    lengths.push(len);
    size += 4 + len;
  }
  const data = new Uint8Array(size);
  const view = new DataView(data.buffer);
  let at = 0;
  let total = 0;
  for (const len of lengths) {
    view.setUint32(at, len);
    data.fill(len & 0xff, at + 4, at + 4 + len);
    at += 4 + len;
    total += len;
  }
  return { data, total };
}

const frames = makeFrames(FRAMES);

// --- bulk -------------------------------------------------------------------

Deno.bench({
  name: "raw Deno: bulk 128 MiB (64 KiB writes, reused 64 KiB read buffer)",
  group: "bulk",
  baseline: true,
  n: 5,
  warmup: 1,
  async fn() {
    const [client, server, listener] = await rawPair(false);
    const chunk = new Uint8Array(CHUNK).fill(7);
    const reader = (async () => {
      const buffer = new Uint8Array(CHUNK);
      let total = 0;
      for (;;) {
        const n = await server.read(buffer);
        if (n === null) return total;
        total += n;
      }
    })();
    for (let sent = 0; sent < BULK_BYTES; sent += CHUNK) await rawWriteAll(client, chunk);
    client.close();
    if ((await reader) !== BULK_BYTES) throw new Error("lost bytes");
    server.close();
    listener.close();
  },
});

Deno.bench({
  name: "netkit: bulk 128 MiB (writeAll 64 KiB, readInto reused 64 KiB)",
  group: "bulk",
  n: 5,
  warmup: 1,
  async fn() {
    const { client, server, listener } = await netkitPair();
    const chunk = new Uint8Array(CHUNK).fill(7);
    const reader = (async () => {
      const buffer = new Uint8Array(CHUNK);
      let total = 0;
      for (;;) {
        const n = await server.readInto(buffer);
        if (n === null) return total;
        total += n;
      }
    })();
    for (let sent = 0; sent < BULK_BYTES; sent += CHUNK) await client.writeAll(chunk);
    client.close();
    if ((await reader) !== BULK_BYTES) throw new Error("lost bytes");
    server.close();
    listener.close();
  },
});

// --- ping-pong ----------------------------------------------------------------

Deno.bench({
  name: "raw Deno: 5000 ping-pongs of 64 B (setNoDelay)",
  group: "ping-pong",
  baseline: true,
  n: 10,
  warmup: 2,
  async fn() {
    const [client, server, listener] = await rawPair(true);
    const echo = (async () => {
      const buffer = new Uint8Array(PING_SIZE);
      for (let i = 0; i < PING_ROUNDS; i++) {
        await rawReadExact(server, buffer);
        await rawWriteAll(server, buffer);
      }
    })();
    const request = new Uint8Array(PING_SIZE).fill(1);
    const reply = new Uint8Array(PING_SIZE);
    for (let i = 0; i < PING_ROUNDS; i++) {
      await rawWriteAll(client, request);
      await rawReadExact(client, reply);
    }
    await echo;
    client.close();
    server.close();
    listener.close();
  },
});

Deno.bench({
  name: "netkit: 5000 ping-pongs of 64 B (writeAll + readExact, noDelay default)",
  group: "ping-pong",
  n: 10,
  warmup: 2,
  async fn() {
    const { client, server, listener } = await netkitPair();
    const echo = (async () => {
      for (let i = 0; i < PING_ROUNDS; i++) {
        await server.writeAll(await server.readExact(PING_SIZE));
      }
    })();
    const request = new Uint8Array(PING_SIZE).fill(1);
    for (let i = 0; i < PING_ROUNDS; i++) {
      await client.writeAll(request);
      await client.readExact(PING_SIZE);
    }
    await echo;
    client.close();
    server.close();
    listener.close();
  },
});

// --- connections --------------------------------------------------------------

Deno.bench({
  name: "raw Deno: 1000 connections opened, accepted, closed",
  group: "connections",
  baseline: true,
  n: 5,
  warmup: 1,
  async fn() {
    const listener = Deno.listen({ hostname: HOST, port: 0 });
    const { port } = listener.addr;
    for (let i = 0; i < CONNECTIONS; i++) {
      const [client, server] = await Promise.all([
        Deno.connect({ hostname: HOST, port }),
        listener.accept(),
      ]);
      server.close();
      client.close();
    }
    listener.close();
  },
});

Deno.bench({
  name: "raw Deno: 1000 connections, setNoDelay(true) on both ends (netkit's default)",
  group: "connections",
  n: 5,
  warmup: 1,
  async fn() {
    const listener = Deno.listen({ hostname: HOST, port: 0 });
    const { port } = listener.addr;
    for (let i = 0; i < CONNECTIONS; i++) {
      const [client, server] = await Promise.all([
        Deno.connect({ hostname: HOST, port }),
        listener.accept(),
      ]);
      client.setNoDelay(true);
      server.setNoDelay(true);
      server.close();
      client.close();
    }
    listener.close();
  },
});

Deno.bench({
  name: "netkit: 1000 connections opened, accepted, closed",
  group: "connections",
  n: 5,
  warmup: 1,
  async fn() {
    const listener = listen({ hostname: HOST, port: 0 });
    const { port } = listener.addr;
    for (let i = 0; i < CONNECTIONS; i++) {
      const [client, server] = await Promise.all([connect(HOST, port), listener.accept()]);
      server.close();
      client.close();
    }
    listener.close();
  },
});

// --- framed reads ---------------------------------------------------------------

Deno.bench({
  name: "raw Deno: 100k length-prefixed frames, hand-written buffered conn.read loop",
  group: "framed",
  baseline: true,
  n: 5,
  warmup: 1,
  async fn() {
    const [client, server, listener] = await rawPair(false);
    const sending = rawWriteAll(server, frames.data).then(() => server.close());
    let buffer = new Uint8Array(CHUNK);
    let start = 0;
    let end = 0;
    let total = 0;
    // Makes sure `need` bytes are buffered, reading more as needed.
    const fill = async (need: number) => {
      while (end - start < need) {
        if (buffer.length - start < need) {
          const grown = new Uint8Array(Math.max(buffer.length, need * 2));
          grown.set(buffer.subarray(start, end));
          buffer = grown;
          end -= start;
          start = 0;
        } else if (buffer.length - end < CHUNK / 4) {
          buffer.copyWithin(0, start, end);
          end -= start;
          start = 0;
        }
        const n = await client.read(buffer.subarray(end));
        if (n === null) throw new Error("unexpected end of stream");
        end += n;
      }
    };
    for (let i = 0; i < FRAMES; i++) {
      await fill(4);
      const len = ((buffer[start] << 24) | (buffer[start + 1] << 16) | (buffer[start + 2] << 8) |
        buffer[start + 3]) >>> 0;
      start += 4;
      await fill(len);
      const payload = buffer.slice(start, start + len);
      start += len;
      total += payload.length;
    }
    if (total !== frames.total) throw new Error("frames differ");
    await sending;
    client.close();
    listener.close();
  },
});

Deno.bench({
  name: "raw Deno: 100k frames, naive conn.read of exactly 4 then exactly len bytes",
  group: "framed",
  n: 3,
  warmup: 1,
  async fn() {
    const [client, server, listener] = await rawPair(false);
    const sending = rawWriteAll(server, frames.data).then(() => server.close());
    let total = 0;
    const head = new Uint8Array(4);
    for (let i = 0; i < FRAMES; i++) {
      await rawReadExact(client, head);
      const len = ((head[0] << 24) | (head[1] << 16) | (head[2] << 8) | head[3]) >>> 0;
      const payload = new Uint8Array(len);
      await rawReadExact(client, payload);
      total += payload.length;
    }
    if (total !== frames.total) throw new Error("frames differ");
    await sending;
    client.close();
    listener.close();
  },
});

/**
 * The least a `readExact` that hands out views can do over `Deno.TcpConn`:
 * a synchronous answer from buffered bytes, a read into the buffer's room
 * otherwise. Handing out views means a buffer is never written again, so each
 * refill takes fresh memory (`reuse: false`, what netkit does); reusing one
 * buffer overwrites the views already handed out (`reuse: true`: not a
 * correct reader, the bound of what buffer reuse could give).
 */
class LeastReader {
  #buffer = new Uint8Array(4 * CHUNK);
  #start = 0;
  #end = 0;
  constructor(readonly conn: Deno.Conn, readonly reuse: boolean) {}

  readExact(n: number): Promise<Uint8Array> {
    if (this.#end - this.#start < n) return this.#fill(n);
    const view = new Uint8Array(this.#buffer.buffer, this.#start, n);
    this.#start += n;
    return Promise.resolve(view);
  }

  async #fill(n: number): Promise<Uint8Array> {
    while (this.#end - this.#start < n) {
      const used = this.#end - this.#start;
      if (this.reuse) this.#buffer.copyWithin(0, this.#start, this.#end);
      else {
        const fresh = new Uint8Array(this.#buffer.length);
        fresh.set(this.#buffer.subarray(this.#start, this.#end));
        this.#buffer = fresh;
      }
      this.#start = 0;
      this.#end = used;
      const got = await this.conn.read(this.#buffer.subarray(this.#end));
      if (got === null) throw new Error("unexpected end of stream");
      this.#end += got;
    }
    const view = new Uint8Array(this.#buffer.buffer, this.#start, n);
    this.#start += n;
    return view;
  }
}

// Each framed case spells its frame loop out: one loop shared by the least reader and netkit's
// stream made the call site polymorphic and slowed netkit's case from 60 to 76–82 ms a run.
for (const reuse of [false, true]) {
  Deno.bench({
    name: reuse
      ? "raw Deno: the same least reader reusing one buffer (overwrites handed-out views; a bound, not a reader)"
      : "raw Deno: the least readExact handing out views (a fresh buffer per refill)",
    group: "framed",
    n: 5,
    warmup: 1,
    async fn() {
      const [conn, server, listener] = await rawPair(false);
      const sending = rawWriteAll(server, frames.data).then(() => server.close());
      const client = new LeastReader(conn, reuse);
      let total = 0;
      for (let i = 0; i < FRAMES; i++) {
        const head = await client.readExact(4);
        const len = ((head[0] << 24) | (head[1] << 16) | (head[2] << 8) | head[3]) >>> 0;
        total += (await client.readExact(len)).length;
      }
      if (total !== frames.total) throw new Error("frames differ");
      await sending;
      conn.close();
      listener.close();
    },
  });
}

Deno.bench({
  name: "netkit: 100k length-prefixed frames, readExact(4) + readExact(len)",
  group: "framed",
  n: 5,
  warmup: 1,
  async fn() {
    const { client, server, listener } = await netkitPair();
    const sending = server.writeAll(frames.data).then(() => server.close());
    let total = 0;
    for (let i = 0; i < FRAMES; i++) {
      const head = await client.readExact(4);
      const len = ((head[0] << 24) | (head[1] << 16) | (head[2] << 8) | head[3]) >>> 0;
      total += (await client.readExact(len)).length;
    }
    if (total !== frames.total) throw new Error("frames differ");
    await sending;
    client.close();
    listener.close();
  },
});
