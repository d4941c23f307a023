/**
 * The body of `select`: an answer at once when something is ready, else one
 * shared readiness wait per object, the timeout on the scheduler's clock and
 * the abort signal, all on one {@linkcode Waiter}.
 *
 * @module
 */

import { abortedError, expired } from "../common/_deadline.ts";
import type { DeadlineOptions } from "../common/deadline.ts";
import { DEADLINE_RULES, invalidArgument, validateOptions } from "../common/_options.ts";
import type { Pollable } from "../common/readiness.ts";
import type { SelectResult, SelectTarget } from "./select.ts";
import { type Direction, pollableOf, watch } from "./_readiness.ts";
import { Waiter, type WaiterTimers } from "./_waiter.ts";

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
  host: WaiterTimers,
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
  host: WaiterTimers,
  watched: Watched[],
  options: DeadlineOptions | undefined,
): Promise<SelectResult<R, W>> {
  const waiter = new Waiter<SelectResult<R, W>>();
  let checking = false;
  const check = () => {
    checking = false;
    if (waiter.settled) return;
    const result = answer<R, W>(watched);
    if (result.read.length > 0 || result.write.length > 0) return waiter.resolve(result);
    // Woken without readiness (closed, or someone else consumed it): watch again.
    let open = 0;
    for (const entry of watched) {
      if (entry.readiness.closed) continue;
      open++;
      if (entry.stop === undefined) subscribe(entry);
    }
    if (open === 0) waiter.resolve(result);
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
  waiter.addOwner({
    forget: () => {
      for (const entry of watched) entry.stop?.();
    },
  });
  for (const entry of watched) subscribe(entry);
  if (options?.timeout !== undefined) {
    const empty = () => waiter.resolve({ read: [], write: [] });
    waiter.expireAt(host, host.now() + options.timeout, empty);
  }
  if (options?.signal !== undefined) waiter.abortOn("select", options.signal);
  return waiter.promise;
}
