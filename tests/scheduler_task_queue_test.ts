import assert from "node:assert/strict";
import { rejectsNetError, tcpConnect, tcpListener, throwsNetError } from "./_scheduler_helpers.ts";
import { socketpair } from "../process/socketpair.ts";
import type { Stream } from "../common/stream.ts";
import {
  ManualClock,
  Scheduler,
  TaskQueue,
  tryAccept,
  tryRead,
  tryWait,
  tryWrite,
} from "../scheduler/mod.ts";

const text = (bytes: Uint8Array | null | "retry") =>
  bytes instanceof Uint8Array ? new TextDecoder().decode(bytes) : bytes;

Deno.test("tryRead answers retry, whenReadable makes the task ready, then tryRead reads without waiting", async () => {
  const [a, b] = await socketpair();
  try {
    const queue = new TaskQueue<{ name: string }>();
    const task = { name: "reader" };
    assert.equal(await tryRead(b), "retry");
    queue.whenReadable(task, b);
    assert.equal(queue.isEmpty(), false);
    await a.writeAll("payload");
    const ready = await queue.wait();
    assert.deepEqual(ready, [task]);
    assert.equal(queue.isEmpty(), true);
    assert.equal(text(await tryRead(b, 3)), "pay");
    assert.equal(text(await tryRead(b)), "load");
    assert.equal(await tryRead(b), "retry");
    await a.shutdown("w");
    queue.whenReadable(task, b);
    assert.deepEqual(await queue.wait(), [task]);
    assert.equal(await tryRead(b), null);
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("an XPIO-style loop serves two streams from one queue over real sockets", async () => {
  const [[a1, b1], [a2, b2]] = await Promise.all([socketpair(), socketpair()]);
  try {
    const queue = new TaskQueue<{ stream: Stream; got: string }>();
    const tasks = [{ stream: b1, got: "" }, { stream: b2, got: "" }];
    for (const task of tasks) queue.whenReadable(task, task.stream);
    const writers = (async () => {
      for (let i = 0; i < 5; i++) {
        await a1.writeAll(`a${i}`);
        await a2.writeAll(`b${i}`);
      }
      await a1.shutdown("w");
      await a2.shutdown("w");
    })();
    let open = 2;
    for (let rounds = 0; open > 0 && rounds < 1000; rounds++) {
      const ready = await queue.wait(5000);
      assert.ok(ready !== undefined && ready.length > 0);
      for (const task of ready) {
        for (;;) {
          const chunk = await tryRead(task.stream);
          if (chunk === "retry") {
            queue.whenReadable(task, task.stream);
            break;
          }
          if (chunk === null) {
            open--;
            break;
          }
          task.got += text(chunk);
        }
      }
    }
    await writers;
    assert.equal(tasks[0].got, "a0a1a2a3a4");
    assert.equal(tasks[1].got, "b0b1b2b3b4");
    assert.equal(await queue.wait(), undefined);
  } finally {
    for (const s of [a1, b1, a2, b2]) s.close();
  }
});

Deno.test("tryAccept answers retry until a client connects over TCP; whenReadable covers accept", async () => {
  await using listener = tcpListener();
  const queue = new TaskQueue();
  const task = { role: "acceptor" };
  assert.equal(await tryAccept(listener), "retry");
  queue.whenReadable(task, listener);
  const client = await tcpConnect(listener.port);
  try {
    assert.deepEqual(await queue.wait(5000), [task]);
    const server = await tryAccept(listener);
    assert.notEqual(server, "retry");
    await client.writeAll("hi");
    assert.equal(text(await (server as Stream).readExact(2)), "hi");
    (server as Stream).close();
  } finally {
    client.close();
  }
});

Deno.test("whenWritable makes the task ready when a write would not wait; tryWrite writes", async () => {
  const [a, b] = await socketpair();
  try {
    const queue = new TaskQueue();
    const task = {};
    queue.whenWritable(task, a);
    assert.deepEqual(await queue.wait(), [task]);
    assert.equal(await tryWrite(a, "abc"), 3);
    assert.equal(text(await b.readExact(3)), "abc");
    // While a writeAll holds the stream, tryWrite answers retry.
    const big = new Uint8Array(8 * 1024 * 1024);
    const writing = a.writeAll(big);
    assert.equal(await tryWrite(a, "x"), "retry");
    queue.whenWritable(task, a);
    const draining = b.readExact(big.length);
    assert.deepEqual(await queue.wait(10_000), [task]);
    await writing;
    await draining;
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("whenExit makes the task ready when the child exits; tryWait answers retry before", async () => {
  const child = new Deno.Command("sh", { args: ["-c", "read line; exit 4"], stdin: "piped" })
    .spawn();
  let status: Deno.CommandStatus | undefined;
  const process = {
    wait: async () => (status = await child.status),
    tryWait: () => status,
  };
  const queue = new TaskQueue();
  const task = { pid: child.pid };
  assert.equal(tryWait(process), "retry");
  queue.whenExit(task, process);
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode("go\n"));
  await writer.close();
  assert.deepEqual(await queue.wait(10_000), [task]);
  const exited = tryWait(process);
  assert.notEqual(exited, "retry");
  assert.equal((exited as Deno.CommandStatus).code, 4);
  throwsNetError(() => tryWait({} as never), "invalid_argument", "process");
});

Deno.test("a task dequeued before it fires is never returned", async () => {
  const [a, b] = await socketpair();
  try {
    const queue = new TaskQueue();
    const kept = { id: "kept" };
    const dropped = { id: "dropped" };
    queue.whenReadable(kept, b);
    const dequeue = queue.whenReadable(dropped, b);
    assert.equal(queue.size, 2);
    assert.equal(dequeue(), true);
    assert.equal(dequeue(), false);
    assert.equal(queue.dequeue(dropped), false);
    await a.writeAll("x");
    assert.deepEqual(await queue.wait(), [kept]);
    // Dequeued after it became ready, before wait(): also never returned.
    queue.whenWritable(dropped, a);
    await Promise.resolve();
    assert.equal(queue.dequeue(dropped), true);
    assert.deepEqual(await queue.wait(0), []);
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("wait: undefined with nothing queued, [] when the timeout passes, undefined when the last task is dequeued", async () => {
  const clock = new ManualClock();
  const scheduler = new Scheduler({ clock });
  const [a, b] = await socketpair();
  try {
    const queue = new TaskQueue({ scheduler });
    assert.equal(await queue.wait(), undefined);
    const task = { id: 1 };
    queue.whenReadable(task, b);
    const timed = queue.wait(50);
    clock.advance(49);
    await Promise.resolve();
    clock.advance(1);
    assert.deepEqual(await timed, []);
    assert.equal(scheduler.pendingTimers, 0);
    assert.equal(queue.size, 1);
    const untimed = queue.wait();
    queue.dequeue(task);
    assert.equal(await untimed, undefined);
    queue.whenReadable(task, b);
    const controller = new AbortController();
    const aborted = queue.wait({ signal: controller.signal });
    controller.abort();
    await rejectsNetError(aborted, "aborted");
    await a.writeAll("now");
    assert.deepEqual(await queue.wait(), [task]);
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("scheduling a queued task again replaces its registration", async () => {
  const [a, b] = await socketpair();
  try {
    const queue = new TaskQueue();
    const task = {};
    queue.whenReadable(task, b);
    queue.whenWritable(task, a);
    assert.equal(queue.size, 1);
    assert.deepEqual(await queue.wait(), [task]);
    assert.equal(queue.isEmpty(), true);
  } finally {
    a.close();
    b.close();
  }
});

Deno.test("a closed source makes its task ready at once and the try call reports closed", async () => {
  const [a, b] = await socketpair();
  a.close();
  b.close();
  const queue = new TaskQueue();
  const task = {};
  queue.whenReadable(task, b);
  assert.deepEqual(await queue.wait(), [task]);
  await rejectsNetError(tryRead(b), "closed");
});

Deno.test("task queue arguments are validated", async () => {
  const [a, b] = await socketpair();
  try {
    const queue = new TaskQueue();
    throwsNetError(() => queue.whenReadable(null as never, b), "invalid_argument", "task");
    throwsNetError(() => queue.whenReadable({}, {} as never), "invalid_argument", "source");
    throwsNetError(() => queue.whenExit({}, 5 as never), "invalid_argument", "process");
    throwsNetError(
      () => new TaskQueue({ scheduler: {} as never }),
      "invalid_argument",
      "scheduler",
    );
    await rejectsNetError(queue.wait(-1), "invalid_argument", "timeout");
    await rejectsNetError(tryRead({} as never), "invalid_argument", "stream");
  } finally {
    a.close();
    b.close();
  }
});
