/**
 * XPIO's task queues: `when…` functions put a task on a queue until its
 * source is ready, `wait()` hands out the ready tasks, and the `try…`
 * functions answer `"retry"` instead of waiting.
 *
 * @module
 */

import { abortedError } from "../common/_deadline.ts";
import type { DeadlineOptions } from "../common/deadline.ts";
import { DEADLINE_RULES, invalidArgument, validateOptions } from "../common/_options.ts";
import type { Selectable } from "../common/readiness.ts";
import type { Waitable } from "./select.ts";
import type { Scheduler } from "./scheduler.ts";
import { defaultScheduler } from "./functions.ts";
import { coreOf } from "./_core.ts";
import { type Direction, pollableOf, watch } from "./_readiness.ts";
import { Waiter, type WaiterTimers } from "./_waiter.ts";

/** What the `try…` functions answer when the call would have to wait (XPIO's `"retry"`). */
export type Retry = "retry";

/** Options of {@linkcode TaskQueue}. */
export interface TaskQueueOptions {
  /** The scheduler whose clock `wait(timeout)` uses (default: the default scheduler). */
  scheduler?: Scheduler;
}

interface Entry<T> {
  task: T;
  ready: boolean;
  stop: (() => void) | undefined;
}

/**
 * A task queue (XPIO's `tqueue`). Tasks are any objects; each is on the
 * queue at most once, waiting for one event. `when…` schedules a task,
 * `wait()` returns the tasks whose events happened (and removes them), and
 * `dequeue(task)` (XPIO's `task._dequeue()`) takes a task off before it
 * fires. Scheduling a task that is already queued replaces its earlier
 * registration.
 *
 * A task becomes ready when the corresponding `try…` call should be made
 * again; that call may still answer `"retry"` (another reader got there
 * first), in which case the task is scheduled again.
 *
 * @example A read loop in XPIO style
 * ```ts
 * import { TaskQueue, tryRead } from "@netkit/netkit/scheduler";
 * import { socketpair } from "@netkit/netkit/process";
 *
 * const [a, b] = await socketpair();
 * const queue = new TaskQueue<{ name: string }>();
 * const task = { name: "reader" };
 * console.log(await tryRead(b)); // retry
 * queue.whenReadable(task, b);
 * await a.writeAll("hello");
 * const ready = await queue.wait();
 * console.log(ready?.[0] === task, new TextDecoder().decode((await tryRead(b)) as Uint8Array)); // true hello
 * a.close();
 * b.close();
 * ```
 */
export class TaskQueue<T extends object = object> {
  #timers: WaiterTimers;
  #queued = new Map<T, Entry<T>>();
  #ready: T[] = [];
  #wakers = new Set<() => void>();

  /**
   * Makes an empty queue.
   *
   * @param options `scheduler`: whose clock `wait(timeout)` uses.
   * @throws {NetError} `invalid_argument` for an unknown option.
   *
   * @example
   * ```ts
   * import { ManualClock, Scheduler, TaskQueue } from "@netkit/netkit/scheduler";
   *
   * const scheduler = new Scheduler({ clock: new ManualClock() });
   * const queue = new TaskQueue({ scheduler });
   * console.log(queue.isEmpty()); // true
   * ```
   */
  constructor(options?: TaskQueueOptions) {
    const { scheduler } = validateOptions<TaskQueueOptions>("TaskQueue", options, {
      scheduler: {
        type: "custom",
        accepts: "a Scheduler",
        check: (value) => coreOf(value) !== undefined,
      },
    });
    this.#timers = coreOf(scheduler ?? defaultScheduler)!;
  }

  /**
   * True when no task is on the queue (neither waiting nor ready).
   *
   * @returns Whether the queue is empty.
   *
   * @example
   * ```ts
   * import { TaskQueue } from "@netkit/netkit/scheduler";
   *
   * console.log(new TaskQueue().isEmpty()); // true
   * ```
   */
  isEmpty(): boolean {
    return this.#queued.size === 0;
  }

  /**
   * How many tasks are on the queue.
   *
   * @example
   * ```ts
   * import { TaskQueue } from "@netkit/netkit/scheduler";
   *
   * console.log(new TaskQueue().size); // 0
   * ```
   */
  get size(): number {
    return this.#queued.size;
  }

  #schedule(
    op: string,
    task: T,
    source: unknown,
    field: string,
    direction: Direction,
  ): () => boolean {
    if ((typeof task !== "object" && typeof task !== "function") || task === null) {
      throw invalidArgument(op, "task", "an object", task);
    }
    const readiness = pollableOf(source);
    if (readiness === undefined) {
      throw invalidArgument(
        op,
        field,
        "a selectable object (stream, listener, socket, process)",
        source,
      );
    }
    this.dequeue(task);
    const entry: Entry<T> = { task, ready: false, stop: undefined };
    this.#queued.set(task, entry);
    const now = readiness.closed ||
      (direction === "read" ? readiness.pollRead() : readiness.pollWrite());
    if (now) {
      this.#markReady(entry);
    } else {
      entry.stop = watch(source as object, readiness, direction, () => {
        entry.stop = undefined;
        if (this.#queued.get(task) === entry) this.#markReady(entry);
      });
    }
    return () => this.#queued.get(task) === entry && this.dequeue(task);
  }

  #markReady(entry: Entry<T>): void {
    entry.ready = true;
    this.#ready.push(entry.task);
    this.#wake();
  }

  #wake(): void {
    const wakers = [...this.#wakers];
    this.#wakers.clear();
    for (const wake of wakers) wake();
  }

  /**
   * Queues `task` until `source` is readable: data or end of stream for a
   * stream, a connection for a listener, a datagram for a UDP socket (XPIO
   * `when_read`; accept shares it). A closed source makes the task ready at
   * once (the `try…` call then reports the error).
   *
   * @param task Any object.
   * @param source A stream, listener or UDP socket.
   * @returns A function that dequeues the task (XPIO's `task._dequeue`).
   * @throws {NetError} `invalid_argument` for a bad task or source.
   *
   * @example
   * ```ts
   * import { TaskQueue } from "@netkit/netkit/scheduler";
   * import { socketpair } from "@netkit/netkit/process";
   *
   * const [a, b] = await socketpair();
   * const queue = new TaskQueue();
   * const dequeue = queue.whenReadable({ id: 1 }, b);
   * console.log(queue.isEmpty(), dequeue(), queue.isEmpty()); // false true true
   * a.close();
   * b.close();
   * ```
   */
  whenReadable(task: T, source: Selectable): () => boolean {
    return this.#schedule("whenReadable", task, source, "source", "read");
  }

  /**
   * Queues `task` until a write to `source` would not wait (XPIO
   * `when_write`).
   *
   * @param task Any object.
   * @param source A stream or UDP socket.
   * @returns A function that dequeues the task.
   * @throws {NetError} `invalid_argument` for a bad task or source.
   *
   * @example
   * ```ts
   * import { TaskQueue } from "@netkit/netkit/scheduler";
   * import { socketpair } from "@netkit/netkit/process";
   *
   * const [a, b] = await socketpair();
   * const queue = new TaskQueue();
   * const task = { id: "writer" };
   * queue.whenWritable(task, a);
   * console.log((await queue.wait())?.[0] === task); // true
   * a.close();
   * b.close();
   * ```
   */
  whenWritable(task: T, source: Selectable): () => boolean {
    return this.#schedule("whenWritable", task, source, "source", "write");
  }

  /**
   * Queues `task` until `process` has exited (XPIO `when_wait`). A process
   * is anything with `wait()` (and ideally `tryWait()`), or a selectable
   * object that is readable once it exited.
   *
   * @param task Any object.
   * @param process The process.
   * @returns A function that dequeues the task.
   * @throws {NetError} `invalid_argument` for a bad task or process.
   *
   * @example
   * ```ts
   * import { TaskQueue } from "@netkit/netkit/scheduler";
   *
   * const child = new Deno.Command("true").spawn();
   * const process = { wait: () => child.status, tryWait: () => undefined };
   * const queue = new TaskQueue();
   * queue.whenExit({ id: "child" }, process);
   * console.log((await queue.wait())?.length); // 1
   * ```
   */
  whenExit(task: T, process: Waitable | Selectable): () => boolean {
    return this.#schedule("whenExit", task, process, "process", "read");
  }

  /**
   * Takes `task` off the queue before it fires (XPIO's `task._dequeue()`);
   * it is then never returned by `wait()`.
   *
   * @param task The task.
   * @returns True when it was on the queue.
   *
   * @example
   * ```ts
   * import { TaskQueue } from "@netkit/netkit/scheduler";
   *
   * console.log(new TaskQueue().dequeue({})); // false
   * ```
   */
  dequeue(task: T): boolean {
    const entry = this.#queued.get(task);
    if (entry === undefined) return false;
    this.#queued.delete(task);
    entry.stop?.();
    entry.stop = undefined;
    if (entry.ready) this.#ready.splice(this.#ready.indexOf(task), 1);
    this.#wake();
    return true;
  }

  #take(): T[] {
    const tasks = this.#ready;
    this.#ready = [];
    for (const task of tasks) this.#queued.delete(task);
    return tasks;
  }

  /**
   * Waits until tasks are ready and returns them, removing them from the
   * queue (XPIO `tqueue:wait`).
   *
   * @param timeout Milliseconds to wait at most (then `[]` is returned, not
   *   an error), or `{ timeout, signal }`.
   * @returns The ready tasks; `[]` when the timeout passed first;
   *   `undefined` when nothing is queued and no timeout was given
   *   ("nothing to wait on", also when the last task is dequeued while
   *   waiting).
   * @throws {NetError} `invalid_argument` for a bad timeout; `aborted`.
   *
   * @example
   * ```ts
   * import { TaskQueue } from "@netkit/netkit/scheduler";
   *
   * const queue = new TaskQueue();
   * console.log(await queue.wait()); // undefined
   * console.log(await queue.wait(1)); // []
   * ```
   */
  async wait(timeout?: number | DeadlineOptions): Promise<T[] | undefined> {
    const options = validateOptions<DeadlineOptions>(
      "wait",
      typeof timeout === "number" || timeout === undefined ? { timeout } : timeout,
      DEADLINE_RULES,
    );
    const signal = options.signal;
    if (signal?.aborted) throw abortedError("wait", signal);
    if (this.#ready.length > 0) return this.#take();
    if (options.timeout === undefined && signal === undefined && this.#queued.size === 0) {
      return undefined;
    }
    if (options.timeout === 0) return [];
    const woken = await this.#waitReady(options.timeout, signal);
    if (woken !== null) return woken;
    // The timeout passed: one turn later, an abort still wins, else what is ready is the answer.
    if (signal?.aborted) throw abortedError("wait", signal);
    return this.#take();
  }

  /** Waits for a wake (a ready or dequeued task), the timeout (null) or the signal. */
  #waitReady(
    timeout: number | undefined,
    signal: AbortSignal | undefined,
  ): Promise<T[] | undefined | null> {
    const waiter = new Waiter<T[] | undefined | null>();
    // Looked at one microtask after a wake, so tasks that became ready together come back together.
    const wake = () => queueMicrotask(check);
    const check = () => {
      if (waiter.settled) return;
      if (this.#ready.length > 0) return waiter.resolve(this.#take());
      if (timeout === undefined && this.#queued.size === 0) return waiter.resolve(undefined);
      this.#wakers.add(wake);
    };
    waiter.addOwner({ forget: () => void this.#wakers.delete(wake) });
    this.#wakers.add(wake);
    if (timeout !== undefined) {
      waiter.expireAt(this.#timers, this.#timers.now() + timeout, () => waiter.resolve(null));
    }
    if (signal !== undefined) waiter.abortOn("wait", signal);
    return waiter.promise;
  }
}

/** What {@linkcode tryRead} reads from: a selectable stream. */
export interface TryReadable extends Selectable {
  /** Reads up to `max` bytes; `null` at end of stream. */
  read(max?: number): Promise<Uint8Array | null>;
}

/** What {@linkcode tryWrite} writes to: a selectable stream. */
export interface TryWritable extends Selectable {
  /** Writes some of `data`; resolves to how much. */
  write(data: Uint8Array | string): Promise<number>;
}

/** What {@linkcode tryAccept} accepts from: a selectable listener. */
export interface TryAcceptable<S> extends Selectable {
  /** Accepts the next connection. */
  accept(): Promise<S>;
}

/** What {@linkcode tryReceive} receives from: a selectable datagram socket. */
export interface TryReceivable<D> extends Selectable {
  /** Receives the next datagram. */
  receive(): Promise<D>;
}

function readinessOf(op: string, field: string, source: unknown) {
  const readiness = pollableOf(source);
  if (readiness === undefined) {
    throw invalidArgument(op, field, "a selectable object", source);
  }
  return readiness;
}

/**
 * Reads now or answers `"retry"` (XPIO `try_read`): when the stream has
 * buffered data, end of stream or an error, this is `stream.read(max)`
 * (which then does not wait); otherwise `"retry"` — schedule the task with
 * `whenReadable` and try again when it is ready.
 *
 * @param stream A netkit stream.
 * @param max The most bytes to return (default 16384).
 * @returns The bytes, `null` at end of stream, or `"retry"`.
 * @throws {NetError} What `read` throws (`closed`, `connection_reset`, …).
 *
 * @example
 * ```ts
 * import { tryRead } from "@netkit/netkit/scheduler";
 * import { socketpair } from "@netkit/netkit/process";
 *
 * const [a, b] = await socketpair();
 * console.log(await tryRead(b)); // retry
 * a.close();
 * b.close();
 * ```
 */
export async function tryRead(
  stream: TryReadable,
  max?: number,
): Promise<Uint8Array | null | Retry> {
  if (!readinessOf("tryRead", "stream", stream).pollRead()) return "retry";
  return await stream.read(max);
}

/**
 * Writes now or answers `"retry"` (XPIO `try_write`): `"retry"` while
 * another write holds the stream; otherwise one `write` (which can still
 * wait for the kernel to take the bytes: Deno has no non-blocking write).
 *
 * @param stream A netkit stream.
 * @param data Bytes or a string.
 * @returns How many bytes were written, or `"retry"`.
 * @throws {NetError} What `write` throws (`broken_pipe`, `closed`, …).
 *
 * @example
 * ```ts
 * import { tryWrite } from "@netkit/netkit/scheduler";
 * import { socketpair } from "@netkit/netkit/process";
 *
 * const [a, b] = await socketpair();
 * console.log(await tryWrite(a, "hi")); // 2
 * a.close();
 * b.close();
 * ```
 */
export async function tryWrite(
  stream: TryWritable,
  data: Uint8Array | string,
): Promise<number | Retry> {
  if (!readinessOf("tryWrite", "stream", stream).pollWrite()) return "retry";
  return await stream.write(data);
}

/**
 * Accepts now or answers `"retry"` (XPIO `try_accept`).
 *
 * @param listener A netkit listener.
 * @returns The accepted stream, or `"retry"` when no connection waits.
 * @throws {NetError} What `accept` throws (`closed`, …).
 *
 * @example
 * ```ts
 * import { tryAccept } from "@netkit/netkit/scheduler";
 * import { connect, listen } from "@netkit/netkit/tcp";
 *
 * await using listener = listen({ hostname: "127.0.0.1", port: 0 });
 * console.log(await tryAccept(listener)); // retry
 * await using _client = await connect("127.0.0.1", listener.addr.port);
 * await listener.accept({ timeout: 1000 }).then((server) => server.close());
 * ```
 */
export async function tryAccept<S>(listener: TryAcceptable<S>): Promise<S | Retry> {
  if (!readinessOf("tryAccept", "listener", listener).pollRead()) return "retry";
  return await listener.accept();
}

/**
 * Receives a datagram now or answers `"retry"` (XPIO's `try_read` on a UDP
 * socket).
 *
 * @param socket A netkit UDP socket.
 * @returns The datagram, or `"retry"`.
 * @throws {NetError} What `receive` throws.
 *
 * @example
 * ```ts
 * import { tryReceive } from "@netkit/netkit/scheduler";
 * import { pollable } from "@netkit/netkit";
 *
 * const idle = {
 *   receive: () => Promise.resolve(new Uint8Array(0)),
 *   [pollable]: () => ({
 *     closed: false,
 *     pollRead: () => false,
 *     waitRead: () => new Promise<void>(() => {}),
 *     pollWrite: () => true,
 *     waitWrite: () => Promise.resolve(),
 *   }),
 * };
 * console.log(await tryReceive(idle)); // retry
 * ```
 */
export async function tryReceive<D>(socket: TryReceivable<D>): Promise<D | Retry> {
  if (!readinessOf("tryReceive", "socket", socket).pollRead()) return "retry";
  return await socket.receive();
}

/**
 * The exit status now, or `"retry"` while the process runs (XPIO
 * `try_wait`).
 *
 * @param process Anything with `tryWait()` (a netkit `Process`).
 * @returns Its status, or `"retry"`.
 * @throws {NetError} `invalid_argument` without a `tryWait()` method.
 *
 * @example
 * ```ts
 * import { tryWait } from "@netkit/netkit/scheduler";
 *
 * console.log(tryWait({ tryWait: () => undefined })); // retry
 * console.log(tryWait({ tryWait: () => ({ exited: 0 }) })); // { exited: 0 }
 * ```
 */
export function tryWait<S>(process: { tryWait(): S | undefined }): S | Retry {
  if (typeof process?.tryWait !== "function") {
    throw invalidArgument("tryWait", "process", "an object with tryWait()", process);
  }
  const status = process.tryWait();
  return status === undefined ? "retry" : status;
}
