/**
 * Scheduler benchmarks, each netkit case grouped with its raw-Deno baseline:
 * `deno bench -A bench/scheduler_bench.ts`.
 */
import { Scheduler, select } from "../scheduler/mod.ts";
import { socketpair } from "../process/socketpair.ts";
import type { Stream } from "../common/stream.ts";

const TIMERS = 100_000;
const THREADS = 100_000;
const IDLE = 1000;

// --- 100k zero-delay timers scheduled, then all fired -----------------------

Deno.bench({
  name: "raw setTimeout(0) × 100k",
  group: "timers 100k",
  baseline: true,
  n: 5,
  warmup: 1,
  async fn() {
    await new Promise<void>((resolve) => {
      let left = TIMERS;
      const done = () => {
        if (--left === 0) resolve();
      };
      for (let i = 0; i < TIMERS; i++) setTimeout(done, 0);
    });
  },
});

const scheduler = new Scheduler();

Deno.bench({
  name: "netkit runAfter(0) × 100k",
  group: "timers 100k",
  n: 5,
  warmup: 1,
  async fn() {
    await new Promise<void>((resolve) => {
      let left = TIMERS;
      const done = () => {
        if (--left === 0) resolve();
      };
      for (let i = 0; i < TIMERS; i++) scheduler.runAfter(0, done);
    });
  },
});

Deno.bench({
  name: "netkit runAfter(0..9 ms) × 100k (mixed due times)",
  group: "timers 100k",
  n: 5,
  warmup: 1,
  async fn() {
    await new Promise<void>((resolve) => {
      let left = TIMERS;
      const done = () => {
        if (--left === 0) resolve();
      };
      for (let i = 0; i < TIMERS; i++) scheduler.runAfter(i % 10, done);
    });
  },
});

// A precise scheduler (its alarm on a runtime thread under --allow-ffi): a
// zero-delay storm never reaches the alarm, so it must cost the same.
const precise = new Scheduler({ precise: true });

Deno.bench({
  name: "netkit runAfter(0) × 100k, precise scheduler",
  group: "timers 100k",
  n: 5,
  warmup: 1,
  async fn() {
    await new Promise<void>((resolve) => {
      let left = TIMERS;
      const done = () => {
        if (--left === 0) resolve();
      };
      for (let i = 0; i < TIMERS; i++) precise.runAfter(0, done);
    });
  },
});

Deno.bench({
  name: "netkit runAfter(0..9 ms) × 100k (mixed due times), precise scheduler",
  group: "timers 100k",
  n: 5,
  warmup: 1,
  async fn() {
    await new Promise<void>((resolve) => {
      let left = TIMERS;
      const done = () => {
        if (--left === 0) resolve();
      };
      for (let i = 0; i < TIMERS; i++) precise.runAfter(i % 10, done);
    });
  },
});

// --- 200 sequential 1 ms sleeps: time per sleep is 1 ms + its lateness ---------
// (bench/sleep_lateness.ts reports the mean lateness itself, in fresh processes.)

const SLEEPS = 200;

Deno.bench({
  name: "raw setTimeout(1) × 200, sequential",
  group: "sleep 1 ms × 200",
  baseline: true,
  n: 5,
  warmup: 1,
  async fn() {
    for (let i = 0; i < SLEEPS; i++) await new Promise((resolve) => setTimeout(resolve, 1));
  },
});

Deno.bench({
  name: "netkit sleep(1) × 200, default scheduler",
  group: "sleep 1 ms × 200",
  n: 5,
  warmup: 1,
  async fn() {
    for (let i = 0; i < SLEEPS; i++) await scheduler.sleep(1);
  },
});

Deno.bench({
  name: "netkit sleep(1) × 200, precise scheduler",
  group: "sleep 1 ms × 200",
  n: 5,
  warmup: 1,
  async fn() {
    for (let i = 0; i < SLEEPS; i++) await precise.sleep(1);
  },
});

// --- 100k threads spawned and joined -----------------------------------------

Deno.bench({
  name: "raw async tasks × 100k (Promise.all)",
  group: "threads 100k",
  baseline: true,
  n: 5,
  warmup: 1,
  async fn() {
    const tasks: Promise<number>[] = [];
    for (let i = 0; i < THREADS; i++) {
      tasks.push((async (x: number) => {
        await null;
        return x;
      })(i));
    }
    await Promise.all(tasks);
  },
});

Deno.bench({
  name: "netkit thread() × 100k, joined via done",
  group: "threads 100k",
  n: 5,
  warmup: 1,
  async fn() {
    const tasks: Promise<number>[] = [];
    for (let i = 0; i < THREADS; i++) {
      tasks.push(
        scheduler.thread(async (x: number) => {
          await null;
          return x;
        }, i).done,
      );
    }
    await Promise.all(tasks);
  },
});

Deno.bench({
  name: "netkit run() with 100k threads",
  group: "threads 100k",
  n: 5,
  warmup: 1,
  async fn() {
    await scheduler.run(() => {
      for (let i = 0; i < THREADS; i++) {
        scheduler.thread(async (x: number) => {
          await null;
          return x;
        }, i);
      }
    });
  },
});

// --- select over many idle streams, one becoming ready -----------------------

const pairs: [Stream, Stream][] = await Promise.all(
  Array.from({ length: IDLE + 1 }, () => socketpair()),
);
const [writer, reader] = pairs[0];
const readers = pairs.map(([, r]) => r);
const rawPair = await (async () => {
  const listener = Deno.listen({
    transport: "unix",
    path: `\0netkit-bench-${crypto.randomUUID()}`,
  });
  const [client, server] = await Promise.all([
    Deno.connect({ transport: "unix", path: listener.addr.path! }),
    listener.accept(),
  ]);
  listener.close();
  return [client, server];
})();
const ONE = new Uint8Array([1]);
const scratch = new Uint8Array(16);

Deno.bench({
  name: "raw: write 1 byte, read it on one conn",
  group: "select one ready of many",
  baseline: true,
  async fn() {
    await rawPair[0].write(ONE);
    await rawPair[1].read(scratch);
  },
});

Deno.bench({
  name: "netkit select([1 stream]) + read",
  group: "select one ready of many",
  async fn() {
    await writer.write(ONE);
    await select([reader]);
    await reader.read();
  },
});

Deno.bench({
  name: `netkit select([${IDLE} idle + 1]) + read`,
  group: "select one ready of many",
  async fn() {
    await writer.write(ONE);
    await select(readers);
    await reader.read();
  },
});

globalThis.addEventListener("unload", () => {
  for (const [a, b] of pairs) {
    a.close();
    b.close();
  }
  rawPair[0].close();
  rawPair[1].close();
});
