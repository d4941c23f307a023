/**
 * The engine-side half of a {@linkcode Process}: what `spawn` hands it (the
 * child's handle, the pumps of streams given to the child), and the factory
 * through which only `spawn` makes one.
 *
 * @module
 */

import type { Stream } from "../common/stream.ts";
import type { Process, ProcessStatus } from "./process.ts";

/** A started child, as either engine (`Deno.Command`, `node:child_process`) gives it. */
export interface ChildHandle {
  /** The child's process id. */
  readonly pid: number;
  /** Settles once, when the child has exited and been reaped. */
  readonly status: Promise<ProcessStatus>;
  /** Sends a signal; may throw once the child is gone. */
  kill(signal: Deno.Signal | number): void;
}

/** The pumps feeding streams handed to the child, and how to stop them. */
export interface PumpSet {
  /** Settles when every pump has finished. */
  readonly done: Promise<unknown>;
  /** Stops the pumps that feed the child (it can read no more). */
  stopInput(): void;
  /** Stops every pump and closes their pipes. */
  close(): void;
}

/** What a {@linkcode Process} is made of. */
export interface ProcessParts {
  /** The engine's handle. */
  child: ChildHandle;
  /** The `"piped"` fds, as streams. */
  stdio: Record<number, Stream>;
  /** The pumps of handed-over streams, if any. */
  pumps: PumpSet | null;
  /** Whether the child leads its own process group. */
  pgroup: boolean;
}

let factory: ((parts: ProcessParts) => Process) | undefined;

/** Called once by the `Process` class, which alone can construct itself. */
export function registerProcessFactory(make: (parts: ProcessParts) => Process): void {
  factory = make;
}

/** Wraps a started child in a {@linkcode Process}. */
export function newProcess(parts: ProcessParts): Process {
  return factory!(parts);
}
