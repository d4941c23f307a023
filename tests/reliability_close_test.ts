/**
 * Faults: something is closed or killed while operations wait on it — a
 * listener with several accepts pending, a stream with a read and a write
 * pending, a child killed while we read its output. Each waiting call must
 * settle with a clean NetError (or end of stream), nothing uncaught, nothing
 * leaked, and every byte delivered before the end must be intact.
 */
import assert from "node:assert/strict";
import * as tcp from "../tcp/mod.ts";
import * as unix from "../unix/mod.ts";
import { socketpair, spawn } from "../process/mod.ts";
import type { NetError } from "../common/errors.ts";
import type { Stream } from "../common/stream.ts";
import { rejection } from "./_helpers.ts";

interface Listening extends AsyncIterable<Stream> {
  accept(options?: { timeout?: number; signal?: AbortSignal }): Promise<Stream>;
  close(): boolean;
  readonly closed: boolean;
}

async function closeWithAcceptsPending(listener: Listening): Promise<void> {
  const controller = new AbortController();
  const plain = Array.from({ length: 5 }, () => rejection(listener.accept()));
  const timed = rejection(listener.accept({ timeout: 60_000 }));
  const signalled = rejection(listener.accept({ signal: controller.signal }));
  const iterator = listener[Symbol.asyncIterator]();
  const iterating = iterator.next();
  assert.equal(listener.close(), true);
  assert.equal(listener.close(), false, "closing twice is harmless and says so");
  for (const error of await Promise.all([...plain, timed, signalled])) {
    assert.equal(error.code, "closed", error.message);
    assert.equal(error.op, "accept");
  }
  assert.deepEqual(await iterating, { done: true, value: undefined });
  controller.abort(); // after the fact: nothing left to reject
  assert.equal((await rejection(listener.accept())).code, "closed");
}

Deno.test("tcp: closing a listener rejects every pending accept closed and ends iteration; the port refuses", async () => {
  const listener = tcp.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  await closeWithAcceptsPending(listener);
  await listener[Symbol.asyncDispose]();
  assert.equal((await rejection(tcp.connect("127.0.0.1", port))).code, "connection_refused");
});

Deno.test("unix: closing a listener rejects every pending accept closed and ends iteration; the path is gone", async () => {
  const dir = await Deno.makeTempDir({ prefix: "netkit-close-" });
  try {
    const path = `${dir}/close.sock`;
    const listener = await unix.listen(path);
    await closeWithAcceptsPending(listener);
    await listener[Symbol.asyncDispose]();
    assert.equal((await rejection(unix.connect(path))).code, "not_found");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

type PairMaker = () => Promise<{ a: Stream; b: Stream; done: () => Promise<void> }>;

const PAIRS: [string, PairMaker][] = [
  ["tcp", async () => {
    const listener = tcp.listen({ hostname: "127.0.0.1", port: 0 });
    const [a, b] = await Promise.all([
      tcp.connect("127.0.0.1", listener.addr.port),
      listener.accept(),
    ]);
    return { a, b, done: () => listener[Symbol.asyncDispose]() };
  }],
  ["unix", async () => {
    const dir = await Deno.makeTempDir({ prefix: "netkit-close-" });
    const listener = await unix.listen(`${dir}/pair.sock`);
    const [a, b] = await Promise.all([unix.connect(`${dir}/pair.sock`), listener.accept()]);
    return {
      a,
      b,
      done: async () => {
        await listener[Symbol.asyncDispose]();
        await Deno.remove(dir, { recursive: true });
      },
    };
  }],
  ["socketpair", async () => {
    const [a, b] = await socketpair();
    return { a, b, done: () => Promise.resolve() };
  }],
];

for (const [name, makePair] of PAIRS) {
  Deno.test(`${name}: close() while a read and a blocked writeAll are pending rejects both closed, written counted`, async () => {
    const { a, b, done } = await makePair();
    try {
      const size = 64 * 1024 * 1024;
      const reading = rejection(a.read());
      const readingExact = rejection(a.readExact(10)); // queued behind the read
      const writing = rejection(a.writeAll(new Uint8Array(size))); // the peer never reads
      // Let the write fill the socket buffers before closing: wait for the peer to hold data.
      assert.ok((await b.read(1, { timeout: 5000 }))?.length === 1);
      a.close();
      for (const error of await Promise.all([reading, readingExact])) {
        assert.equal(error.code, "closed", error.message);
      }
      const error = await writing;
      assert.equal(error.code, "closed", error.message);
      assert.equal(error.op, "writeAll");
      assert.ok(error.written! >= 1 && error.written! < size, `written ${error.written}`);
      assert.equal(a.closed, true);
      assert.equal((await rejection(a.write("x"))).code, "closed");
      // The peer drains what was written, then sees the end (or a reset), never garbage.
      let drained = 1;
      for (let i = 0; i < 100_000; i++) {
        let chunk: Uint8Array | null;
        try {
          chunk = await b.read(65536, { timeout: 5000 });
        } catch (failure) {
          assert.equal((failure as NetError).code, "connection_reset");
          break;
        }
        if (chunk === null) break;
        assert.ok(chunk.every((byte) => byte === 0), "corrupt bytes after close");
        drained += chunk.length;
      }
      assert.ok(drained <= error.written!, `peer got ${drained} > written ${error.written}`);
    } finally {
      a.close();
      b.close();
      await done();
    }
  });
}

const LINE = "netkit\n";

/** Reads `stream` to its end, checking every byte continues LINE repeated. */
async function readPattern(stream: Stream, until: number): Promise<number> {
  let offset = 0;
  for (let i = 0; i < 1_000_000; i++) {
    const chunk = await stream.read(65536, { timeout: 10_000 });
    if (chunk === null) return offset;
    for (const byte of chunk) {
      assert.equal(byte, LINE.charCodeAt(offset % LINE.length), `byte ${offset} is wrong`);
      offset++;
    }
    if (offset >= until) return offset;
  }
  assert.fail("unbounded output");
}

const ENGINES: [string, number, string][] = [
  ["Deno.Command (stdout)", 1, "exec yes netkit"],
  ["node:child_process (fd 3)", 3, "exec yes netkit >&3"],
];

for (const [engine, fd, script] of ENGINES) {
  Deno.test(`process via ${engine}: a child killed while we read its output ends the stream cleanly, every byte intact`, async () => {
    await using child = await spawn(["sh", "-c", script], { files: { [fd]: "piped" } });
    const output = child.stdio[fd]!;
    const before = await readPattern(output, 256 * 1024);
    assert.ok(before >= 256 * 1024);
    child.kill("SIGKILL");
    assert.deepEqual(await child.wait(), { signaled: "SIGKILL" });
    // What the child wrote before it died is still delivered, then end of stream.
    let rest = 0;
    for (let i = 0; i < 1_000_000; i++) {
      const chunk = await output.read(65536, { timeout: 10_000 });
      if (chunk === null) break;
      for (const byte of chunk) {
        assert.equal(byte, LINE.charCodeAt((before + rest) % LINE.length));
        rest++;
      }
    }
    assert.equal(await output.read(), null);
  });

  Deno.test(`process via ${engine}: a read pending on a silent child's output ends with null when the child is killed`, async () => {
    await using child = await spawn(
      ["sh", "-c", fd === 1 ? "exec sleep 30" : "exec sleep 30 3>&3"],
      { files: { [fd]: "piped" } },
    );
    const pending = child.stdio[fd]!.read();
    child.kill("SIGKILL");
    assert.equal(await pending, null);
    assert.deepEqual(await child.wait(), { signaled: "SIGKILL" });
  });
}
