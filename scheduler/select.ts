/**
 * `select` (lsocket's): which of some streams, listeners, UDP sockets and
 * processes are ready to read or write — the types it takes and answers.
 *
 * @module
 */

import type { Selectable } from "../common/readiness.ts";

/** A process as `select`/`whenExit` see it: `wait()` and, ideally, `tryWait()`. */
export interface Waitable {
  /** Resolves when the process has exited. */
  wait(): Promise<unknown>;
  /** The exit status now, or `undefined` while it runs. */
  tryWait?(): unknown;
}

/** What `select` accepts: anything with `[pollable]()`, or a process with `wait()`. */
export type SelectTarget = Selectable | Waitable;

/** What `select` answers: the ready objects of each list, in the given order. */
export interface SelectResult<R extends SelectTarget, W extends SelectTarget> {
  /** Objects a read/accept/receive would not wait on (data, end of stream, a connection, an exit). */
  read: R[];
  /** Objects a write would not wait on. */
  write: W[];
}
