/**
 * Readiness plumbing shared by `select` and `TaskQueue`: turning objects
 * into {@linkcode Pollable}s, and one shared wait per object and direction
 * however many selects or tasks watch it.
 *
 * @module
 */

import { isSelectable, type Pollable, pollable } from "../common/readiness.ts";
import type { Waitable } from "./select.ts";

/** True when `value` has a `wait()` method (a process). */
function isWaitable(value: unknown): value is Waitable {
  return typeof value === "object" && value !== null &&
    typeof (value as Partial<Waitable>).wait === "function";
}

const NEVER: Promise<void> = new Promise<void>(() => {});

const processPollables = new WeakMap<Waitable, Pollable>();

/** A pollable over a process: readable once it has exited. */
function processPollable(process: Waitable): Pollable {
  let pollable = processPollables.get(process);
  if (pollable !== undefined) return pollable;
  let exited = false;
  let waiting: Promise<void> | undefined;
  pollable = {
    closed: false,
    pollRead: () => {
      if (!exited && typeof process.tryWait === "function") {
        exited = process.tryWait() !== undefined;
      }
      return exited;
    },
    waitRead: () =>
      waiting ??= process.wait().then(
        () => void (exited = true),
        () => void (exited = true),
      ),
    pollWrite: () => false,
    waitWrite: () => NEVER,
  };
  processPollables.set(process, pollable);
  return pollable;
}

/**
 * The readiness of an object: its own `[pollable]()`, or, for a process
 * with only `wait()`/`tryWait()`, an adapter. `undefined` when it has
 * neither.
 */
export function pollableOf(value: unknown): Pollable | undefined {
  if (isSelectable(value)) return value[pollable]();
  if (isWaitable(value)) return processPollable(value);
  return undefined;
}

/** The direction of a readiness wait. */
export type Direction = "read" | "write";

class Registration {
  done = false;
  readonly listeners = new Set<() => void>();
}

const registrations = {
  read: new WeakMap<object, Registration>(),
  write: new WeakMap<object, Registration>(),
};

/**
 * Calls `listener` once when `object` becomes ready (or its wait fails)
 * in `direction`. One underlying `waitRead`/`waitWrite` is shared by every
 * watcher of the same object, so watchers that give up leave nothing
 * behind but their removed listener.
 *
 * @returns A function that stops watching.
 */
export function watch(
  object: object,
  readiness: Pollable,
  direction: Direction,
  listener: () => void,
): () => void {
  const table = registrations[direction];
  let registration = table.get(object);
  if (registration === undefined) {
    const created = new Registration();
    registration = created;
    table.set(object, created);
    const fire = () => {
      created.done = true;
      if (table.get(object) === created) table.delete(object);
      for (const notify of created.listeners) notify();
      created.listeners.clear();
    };
    const wait = direction === "read" ? readiness.waitRead() : readiness.waitWrite();
    wait.then(fire, fire);
  }
  const current = registration;
  current.listeners.add(listener);
  return () => void current.listeners.delete(listener);
}
