import assert from "node:assert/strict";
import { rejectsNetError, tcpConnect, tcpListener } from "./_scheduler_helpers.ts";
import { socketpair } from "../process/socketpair.ts";
import type { Stream } from "../common/stream.ts";
import { ManualClock, Scheduler, select } from "../scheduler/mod.ts";
import { type Pollable, pollable } from "../mod.ts";

async function pairs(n: number): Promise<[Stream, Stream][]> {
  return await Promise.all(Array.from({ length: n }, () => socketpair()));
}

function closeAll(list: [Stream, Stream][]): void {
  for (const [a, b] of list) {
    a.close();
    b.close();
  }
}

/** A hand-driven pollable that counts its waits. */
function fakePollable() {
  let readable = false;
  let release: (() => void) | undefined;
  const counts = { waitRead: 0 };
  const readiness: Pollable = {
    closed: false,
    pollRead: () => readable,
    waitRead: () => {
      counts.waitRead++;
      return new Promise<void>((resolve) => (release = resolve));
    },
    pollWrite: () => false,
    waitWrite: () => new Promise<void>(() => {}),
  };
  return {
    counts,
    object: { [pollable]: () => readiness },
    makeReadable() {
      readable = true;
      release?.();
    },
  };
}

Deno.test("select reports the stream that has data, not the idle one, and consumes nothing", async () => {
  const [[a1, b1], [a2, b2]] = await pairs(2);
  try {
    await a1.writeAll("hello");
    const result = await select([b1, b2]);
    assert.deepEqual(result.read, [b1]);
    assert.deepEqual(result.write, []);
    assert.equal(new TextDecoder().decode(await b1.readExact(5)), "hello");
  } finally {
    closeAll([[a1, b1], [a2, b2]]);
  }
});

Deno.test("select reports end of stream as readable", async () => {
  const [a, b] = await socketpair();
  try {
    await a.shutdown("w");
    const { read } = await select([b]);
    assert.deepEqual(read, [b]);
    assert.equal(await b.read(), null);
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("select reports a listener with a pending connection; accept then gets it", async () => {
  await using listener = tcpListener();
  const idle = await select([listener], [], { timeout: 10 });
  assert.deepEqual(idle.read, []);
  const client = await tcpConnect(listener.port);
  try {
    const { read } = await select([listener], [], { timeout: 5000 });
    assert.deepEqual(read, [listener]);
    const server = await listener.accept();
    await client.writeAll("x");
    assert.equal((await server.readExact(1))[0], 120);
    server.close();
  } finally {
    client.close();
  }
});

Deno.test("select with nothing ready times out with empty lists, not an error", async () => {
  const [a, b] = await socketpair();
  try {
    assert.deepEqual(await select([b], [], { timeout: 15 }), { read: [], write: [] });
    assert.deepEqual(await select([b], [], { timeout: 0 }), { read: [], write: [] });
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("select's timeout follows the scheduler's clock (manual clock)", async () => {
  const clock = new ManualClock();
  const scheduler = new Scheduler({ clock });
  const fake = fakePollable();
  let result: unknown;
  const selecting = scheduler.select([fake.object], [], { timeout: 100 }).then((r) => result = r);
  clock.advance(99);
  await Promise.resolve();
  assert.equal(result, undefined);
  clock.advance(1);
  await selecting;
  assert.deepEqual(result, { read: [], write: [] });
  assert.equal(scheduler.pendingTimers, 0);
});

Deno.test("select reports writable streams at once", async () => {
  const [a, b] = await socketpair();
  try {
    const result = await select([b], [a, b]);
    assert.deepEqual(result, { read: [], write: [a, b] });
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("select ignores closed objects, and errors when nothing is open and no timeout is set", async () => {
  const [a, b] = await socketpair();
  const [c, d] = await socketpair();
  try {
    b.close();
    await c.writeAll("z");
    assert.deepEqual((await select([b, d])).read, [d]);
    assert.deepEqual(await select([b], [b], { timeout: 5 }), { read: [], write: [] });
    await rejectsNetError(select([b]), "invalid_argument", "read");
  } finally {
    for (const s of [a, b, c, d]) s.close();
  }
});

Deno.test("select returns empty lists when every watched object gets closed while it waits", async () => {
  const [a, b] = await socketpair();
  try {
    const selecting = select([b]);
    b.close();
    assert.deepEqual(await selecting, { read: [], write: [] });
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("select over 50 streams reports exactly the ready ones", async () => {
  const list = await pairs(50);
  try {
    const chosen = new Set([3, 7, 11, 19, 20, 28, 33, 41, 42, 49]);
    const readers = list.map(([, reader]) => reader);
    for (const i of chosen) await list[i][0].writeAll(`data ${i}`);
    const expected = new Set([...chosen].map((i) => readers[i]));
    const reported = new Set<Stream>();
    for (let round = 0; round < 50 && reported.size < expected.size; round++) {
      const { read } = await select(readers, [], { timeout: 5000 });
      assert.ok(read.length > 0);
      for (const stream of read) {
        assert.ok(expected.has(stream), `idle stream ${readers.indexOf(stream)} reported`);
        reported.add(stream);
      }
    }
    assert.equal(reported.size, expected.size);
    for (const i of chosen) {
      assert.equal(new TextDecoder().decode((await readers[i].read())!), `data ${i}`);
    }
    assert.deepEqual(await select(readers, [], { timeout: 20 }), { read: [], write: [] });
  } finally {
    closeAll(list);
  }
});

Deno.test("repeated selects on an idle object share one registered wait", async () => {
  const clock = new ManualClock();
  const scheduler = new Scheduler({ clock });
  const fake = fakePollable();
  for (let i = 0; i < 100; i++) {
    const pending = scheduler.select([fake.object], [], { timeout: 1 });
    clock.advance(1);
    assert.deepEqual(await pending, { read: [], write: [] });
  }
  assert.equal(fake.counts.waitRead, 1);
  const ready = scheduler.select([fake.object]);
  fake.makeReadable();
  assert.deepEqual((await ready).read, [fake.object]);
  assert.equal(fake.counts.waitRead, 1);
});

Deno.test("select watches a process (wait/tryWait) until it exits", async () => {
  const child = new Deno.Command("sh", { args: ["-c", "exit 3"], stdout: "null" }).spawn();
  let status: Deno.CommandStatus | undefined;
  const process = {
    wait: async () => (status = await child.status),
    tryWait: () => status,
  };
  const { read } = await select([process], [], { timeout: 10_000 });
  assert.deepEqual(read, [process]);
  assert.equal(status?.code, 3);
});

Deno.test("an aborted select rejects aborted", async () => {
  const [a, b] = await socketpair();
  try {
    const controller = new AbortController();
    const selecting = select([b], [], { signal: controller.signal });
    controller.abort("stop");
    const error = await rejectsNetError(selecting, "aborted");
    assert.equal(error.cause, "stop");
    await rejectsNetError(select([b], [], { signal: controller.signal }), "aborted");
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("select rejects what it cannot watch with invalid_argument naming the list", async () => {
  await rejectsNetError(select([{}] as never), "invalid_argument", "read");
  await rejectsNetError(select([], [42] as never), "invalid_argument", "write");
  await rejectsNetError(select("x" as never), "invalid_argument", "read");
  await rejectsNetError(select([], [], { timeout: -1 }), "invalid_argument", "timeout");
});

Deno.test("select works over netkit UDP sockets and processes", async () => {
  const { bind } = await import("../udp/mod.ts");
  const { spawn } = await import("../process/mod.ts");
  const receiver = await bind({ hostname: "127.0.0.1", port: 0 });
  const sender = await bind({ hostname: "127.0.0.1", port: 0 });
  const child = await spawn(["sh", "-c", "exit 0"]);
  try {
    assert.deepEqual((await select([receiver], [], { timeout: 10 })).read, []);
    await sender.sendTo("ping", "127.0.0.1", receiver.addr.port);
    assert.deepEqual((await select([receiver], [], { timeout: 5000 })).read, [receiver]);
    assert.equal(new TextDecoder().decode((await receiver.receive()).data), "ping");
    assert.deepEqual((await select([child], [], { timeout: 10_000 })).read, [child]);
    assert.deepEqual(child.tryWait(), { exited: 0 });
  } finally {
    receiver.close();
    sender.close();
    await child.close();
  }
});
