/**
 * The common Stream against raw `Deno.Conn`, over TCP and unix:
 * bulk transfer, 64-byte ping-pong, and length-prefixed framed reads.
 * Run with `deno bench -A bench/stream_bench.ts`.
 */
import { Stream } from "../common/stream.ts";
import { rawReadExact } from "./_raw.ts";

const BULK_BYTES = 256 * 1024 * 1024;
const CHUNK = 256 * 1024;
const ROUNDS = 5_000;
const FRAMES = 100_000;

type Kind = "tcp" | "unix";

async function rawPair(kind: Kind): Promise<[Deno.Conn, Deno.Conn, () => Promise<void>]> {
  if (kind === "tcp") {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const [c, s] = await Promise.all([
      Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port }),
      listener.accept(),
    ]);
    listener.close();
    c.setNoDelay(true);
    s.setNoDelay(true);
    return [c, s, async () => {}];
  }
  const dir = await Deno.makeTempDir();
  const path = `${dir}/b.sock`;
  const listener = Deno.listen({ transport: "unix", path });
  const [c, s] = await Promise.all([Deno.connect({ transport: "unix", path }), listener.accept()]);
  listener.close();
  return [c, s, () => Deno.remove(dir, { recursive: true })];
}

async function rawBulk(kind: Kind): Promise<void> {
  const [c, s, cleanup] = await rawPair(kind);
  const chunk = new Uint8Array(CHUNK).fill(7);
  const reader = (async () => {
    const buf = new Uint8Array(CHUNK);
    let total = 0;
    for (let n; (n = await s.read(buf)) !== null;) total += n;
    return total;
  })();
  for (let sent = 0; sent < BULK_BYTES; sent += CHUNK) {
    for (let at = 0; at < CHUNK;) at += await c.write(chunk.subarray(at));
  }
  c.close();
  if (await reader !== BULK_BYTES) throw new Error("lost bytes");
  s.close();
  await cleanup();
}

async function netkitBulk(kind: Kind): Promise<void> {
  const [rc, rs, cleanup] = await rawPair(kind);
  const c = new Stream(rc);
  const s = new Stream(rs);
  const chunk = new Uint8Array(CHUNK).fill(7);
  const reader = (async () => {
    const buf = new Uint8Array(CHUNK);
    let total = 0;
    for (let n; (n = await s.readInto(buf)) !== null;) total += n;
    return total;
  })();
  for (let sent = 0; sent < BULK_BYTES; sent += CHUNK) await c.writeAll(chunk);
  c.close();
  if (await reader !== BULK_BYTES) throw new Error("lost bytes");
  s.close();
  await cleanup();
}

async function rawPingPong(kind: Kind): Promise<void> {
  const [c, s, cleanup] = await rawPair(kind);
  const echo = (async () => {
    const buf = new Uint8Array(64);
    for (let i = 0; i < ROUNDS; i++) {
      await rawReadExact(s, buf);
      await s.write(buf);
    }
  })();
  const request = new Uint8Array(64).fill(1);
  const reply = new Uint8Array(64);
  for (let i = 0; i < ROUNDS; i++) {
    await c.write(request);
    await rawReadExact(c, reply);
  }
  await echo;
  c.close();
  s.close();
  await cleanup();
}

async function netkitPingPong(kind: Kind): Promise<void> {
  const [rc, rs, cleanup] = await rawPair(kind);
  const c = new Stream(rc);
  const s = new Stream(rs);
  const echo = (async () => {
    for (let i = 0; i < ROUNDS; i++) await s.writeAll(await s.readExact(64));
  })();
  const request = new Uint8Array(64).fill(1);
  for (let i = 0; i < ROUNDS; i++) {
    await c.writeAll(request);
    await c.readExact(64);
  }
  await echo;
  c.close();
  s.close();
  await cleanup();
}

function makeFrames(count: number): Uint8Array {
  let x = 0x9e3779b9 >>> 0;
  const next = () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
  const sizes = Array.from({ length: count }, () => 100 + (next() % 901));
  const out = new Uint8Array(sizes.reduce((a, b) => a + b + 4, 0));
  const view = new DataView(out.buffer);
  let at = 0;
  for (const size of sizes) {
    view.setUint32(at, size);
    out.fill(size & 255, at + 4, at + 4 + size);
    at += 4 + size;
  }
  return out;
}

const FRAME_DATA = makeFrames(FRAMES);

/** What a user writes without netkit: a buffered reader over conn.read(). */
async function rawFramed(): Promise<void> {
  const [c, s, cleanup] = await rawPair("tcp");
  const sending = (async () => {
    for (let at = 0; at < FRAME_DATA.length;) at += await s.write(FRAME_DATA.subarray(at));
    s.close();
  })();
  let buf = new Uint8Array(64 * 1024);
  let start = 0;
  let end = 0;
  const need = async (n: number) => {
    while (end - start < n) {
      if (start > 0) {
        buf.copyWithin(0, start, end);
        end -= start;
        start = 0;
      }
      if (buf.length < n) {
        const grown = new Uint8Array(n * 2);
        grown.set(buf.subarray(0, end));
        buf = grown;
      }
      const got = await c.read(buf.subarray(end));
      if (got === null) throw new Error("eof");
      end += got;
    }
  };
  let sum = 0;
  for (let i = 0; i < FRAMES; i++) {
    await need(4);
    const len = new DataView(buf.buffer, start, 4).getUint32(0);
    start += 4;
    await need(len);
    const payload = buf.slice(start, start + len);
    start += len;
    sum += payload[len - 1];
  }
  await sending;
  c.close();
  await cleanup();
  if (sum === 0) throw new Error("no frames");
}

async function netkitFramed(): Promise<void> {
  const [rc, rs, cleanup] = await rawPair("tcp");
  const c = new Stream(rc);
  const s = new Stream(rs);
  const sending = (async () => {
    await s.writeAll(FRAME_DATA);
    s.close();
  })();
  let sum = 0;
  for (let i = 0; i < FRAMES; i++) {
    const head = await c.readExact(4);
    const len = (head[0] << 24 | head[1] << 16 | head[2] << 8 | head[3]) >>> 0;
    const payload = await c.readExact(len);
    sum += payload[len - 1];
  }
  await sending;
  c.close();
  await cleanup();
  if (sum === 0) throw new Error("no frames");
}

for (const kind of ["tcp", "unix"] as const) {
  Deno.bench({
    name: `raw Deno ${kind} bulk 256 MiB`,
    group: `${kind} bulk`,
    baseline: true,
    n: 5,
    warmup: 1,
    fn: async () => await rawBulk(kind),
  });
  Deno.bench({
    name: `netkit ${kind} bulk 256 MiB`,
    group: `${kind} bulk`,
    n: 5,
    warmup: 1,
    fn: async () => await netkitBulk(kind),
  });
  Deno.bench({
    name: `raw Deno ${kind} ping-pong 5k × 64 B`,
    group: `${kind} ping-pong`,
    baseline: true,
    n: 10,
    warmup: 2,
    fn: async () => await rawPingPong(kind),
  });
  Deno.bench({
    name: `netkit ${kind} ping-pong 5k × 64 B`,
    group: `${kind} ping-pong`,
    n: 10,
    warmup: 2,
    fn: async () => await netkitPingPong(kind),
  });
}
Deno.bench({
  name: "raw Deno buffered conn.read loop, 100k frames",
  group: "framed read",
  baseline: true,
  n: 10,
  warmup: 2,
  fn: rawFramed,
});
Deno.bench({
  name: "netkit readExact, 100k frames",
  group: "framed read",
  n: 10,
  warmup: 2,
  fn: netkitFramed,
});
