/**
 * `select` (lsocket's): which of some streams, listeners, UDP sockets and
 * processes are ready to read or write.
 *
 * @module
 */

import { abortedError, type DeadlineOptions, expired } from "../common/deadline.ts";
import { DEADLINE_RULES, invalidArgument, validateOptions } from "../common/options.ts";
import type { Pollable, Selectable } from "../common/readiness.ts";
import { type Direction, pollableOf, type Waitable, watch } from "./_readiness.ts";
import type { Timer } from "./timer.ts";

/** What `select` accepts: anything with `[pollable]()`, or a process with `wait()`. */
export type SelectTarget = Selectable | Waitable;

/** What `select` answers: the ready objects of each list, in the given order. */
export interface SelectResult<R extends SelectTarget, W extends SelectTarget> {
  /** Objects a read/accept/receive would not wait on (data, end of stream, a connection, an exit). */
  read: R[];
  /** Objects a write would not wait on. */
  write: W[];
}

/** The scheduler side of `select`: its timers. */
export interface SelectHost {
  /** Calls `fn` after `ms` on the scheduler's clock. */
  after(ms: number, fn: () => void): Timer;
}

interface Watched {
  object: SelectTarget;
  readiness: Pollable;
  direction: Direction;
  stop: (() => void) | undefined;
}

function collect<T extends SelectTarget>(
  op: string,
  field: string,
  list: readonly T[] | undefined,
  direction: Direction,
  into: Watched[],
): void {
  if (list === undefined || list === null) return;
  if (!Array.isArray(list)) {
    throw invalidArgument(op, field, "an array of selectable objects", list);
  }
  for (const object of list) {
    const readiness = pollableOf(object);
    if (readiness === undefined) {
      throw invalidArgument(op, field, "an array of selectable objects", object);
    }
    into.push({ object, readiness, direction, stop: undefined });
  }
}

function ready(entry: Watched): boolean {
  if (entry.readiness.closed) return false;
  return entry.direction === "read" ? entry.readiness.pollRead() : entry.readiness.pollWrite();
}

function answer<R extends SelectTarget, W extends SelectTarget>(
  watched: Watched[],
): SelectResult<R, W> {
  const result: SelectResult<R, W> = { read: [], write: [] };
  for (const entry of watched) {
    if (!ready(entry)) continue;
    if (entry.direction === "read") result.read.push(entry.object as R);
    else result.write.push(entry.object as W);
  }
  return result;
}

/**
 * The body of `Scheduler.select` (see there).
 *
 * @param host The scheduler whose clock the timeout uses.
 */
export function selectOn<R extends SelectTarget, W extends SelectTarget>(
  host: SelectHost,
  read: readonly R[] | undefined,
  write: readonly W[] | undefined,
  options: DeadlineOptions | undefined,
): Promise<SelectResult<R, W>> {
  const op = "select";
  try {
    if (options !== undefined) options = validateOptions(op, options, DEADLINE_RULES);
    const watched: Watched[] = [];
    collect(op, "read", read, "read", watched);
    collect(op, "write", write, "write", watched);
    if (options?.signal?.aborted) return Promise.reject(abortedError(op, options.signal));
    const now = answer<R, W>(watched);
    if (now.read.length > 0 || now.write.length > 0) return Promise.resolve(now);
    if (expired(options, op)) return Promise.resolve(now);
    const open = watched.filter((entry) => !entry.readiness.closed);
    if (open.length === 0 && options?.timeout === undefined && options?.signal === undefined) {
      throw invalidArgument(
        op,
        "read",
        "a list with at least one open object when no timeout is given (it would wait forever)",
        read,
      );
    }
    return wait(host, open, options);
  } catch (error) {
    return Promise.reject(error);
  }
}

function wait<R extends SelectTarget, W extends SelectTarget>(
  host: SelectHost,
  watched: Watched[],
  options: DeadlineOptions | undefined,
): Promise<SelectResult<R, W>> {
  return new Promise<SelectResult<R, W>>((resolve, reject) => {
    let finished = false;
    let checking = false;
    let timer: Timer | undefined;
    const signal = options?.signal;
    const finish = (result: SelectResult<R, W> | undefined, error?: unknown) => {
      if (finished) return;
      finished = true;
      for (const entry of watched) entry.stop?.();
      timer?.cancel();
      signal?.removeEventListener("abort", onAbort);
      if (result !== undefined) resolve(result);
      else reject(error);
    };
    const onAbort = () => finish(undefined, abortedError("select", signal!));
    const check = () => {
      checking = false;
      if (finished) return;
      const result = answer<R, W>(watched);
      if (result.read.length > 0 || result.write.length > 0) return finish(result);
      // Woken without readiness (closed, or someone else consumed it): watch again.
      let open = 0;
      for (const entry of watched) {
        if (entry.readiness.closed) continue;
        open++;
        if (entry.stop === undefined) subscribe(entry);
      }
      if (open === 0) finish(result);
    };
    const subscribe = (entry: Watched) => {
      const stop = watch(entry.object, entry.readiness, entry.direction, () => {
        entry.stop = undefined;
        if (checking) return;
        checking = true;
        queueMicrotask(check);
      });
      entry.stop = stop;
    };
    for (const entry of watched) subscribe(entry);
    if (options?.timeout !== undefined) {
      timer = host.after(options.timeout, () => finish({ read: [], write: [] }));
    }
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
