/**
 * {@linkcode output}: run a program to completion and collect its stdout,
 * stderr and status.
 *
 * @example
 * ```ts
 * import { output } from "@netkit/netkit/process";
 *
 * const { status, stdout } = await output(["echo", "done"]);
 * console.log(status, new TextDecoder().decode(stdout)); // { exited: 0 } "done\n"
 * ```
 *
 * @module
 */

import { Deadline } from "../common/_deadline.ts";
import type { DeadlineOptions } from "../common/deadline.ts";
import { NetError } from "../common/errors.ts";
import { invalidArgument, type Schema, validateOptions } from "../common/_options.ts";
import type { ProcessStatus } from "./process.ts";
import { spawn, type SpawnOptions } from "./spawn.ts";

/** Options of {@linkcode output}: those of `spawn` but `files`, plus input and a deadline. */
export interface OutputOptions extends Omit<SpawnOptions, "files" | "signal">, DeadlineOptions {
  /** Bytes (or UTF-8 text) written to the child's stdin, which then ends; default: stdin is `/dev/null`. */
  stdin?: Uint8Array | string;
}

/** What {@linkcode output} returns. */
export interface Output {
  /** How the child ended. */
  status: ProcessStatus;
  /** Everything it wrote to stdout. */
  stdout: Uint8Array;
  /** Everything it wrote to stderr. */
  stderr: Uint8Array;
}

const OWN_RULES: Schema = {
  stdin: {
    type: "custom",
    accepts: "a Uint8Array or a string",
    check: (value) => value instanceof Uint8Array || typeof value === "string",
  },
  timeout: { type: "number", min: 0 },
};

/**
 * Runs a program to completion and collects its output (stdout and stderr
 * are read concurrently, so neither can fill up and block the child).
 *
 * @param args The program and its arguments.
 * @param options `spawn`'s options (but `files`), `stdin` data, and
 *   `{ timeout, signal }`: when either fires the child is killed and reaped
 *   and the call rejects.
 * @returns `{ status, stdout, stderr }`.
 * @throws {NetError} as `spawn`; `timeout`, `aborted`.
 *
 * @example
 * ```ts
 * import { output } from "@netkit/netkit/process";
 *
 * const result = await output(["tr", "a-z", "A-Z"], { stdin: "shout" });
 * console.log(new TextDecoder().decode(result.stdout)); // "SHOUT"
 * console.log(result.status); // { exited: 0 }
 * ```
 */
export async function output(args: readonly string[], options?: OutputOptions): Promise<Output> {
  const { stdin, timeout, signal, ...rest } = options ?? {};
  if (options !== undefined && (typeof options !== "object" || options === null)) {
    throw invalidArgument("output", "options", "an object", options);
  }
  validateOptions("output", { stdin, timeout }, OWN_RULES);
  if ("files" in rest) {
    throw new NetError(
      "invalid_argument",
      "output() sets files itself; use spawn() for a file map",
      {
        op: "output",
        field: "files",
      },
    );
  }
  // One deadline from the start: spawning, feeding and reading all count against it.
  using deadline = Deadline.of(
    { timeout, signal },
    "output",
    Array.isArray(args) ? args[0] : undefined,
  );
  await using child = await spawn(args, {
    ...rest,
    signal: deadline?.signal,
    files: { 0: stdin === undefined ? "null" : "piped", 1: "piped", 2: "piped" },
  });
  const feeding = stdin === undefined ? Promise.resolve() : feed(child.stdin, stdin);
  const run = Promise.all([child.stdout.readAll(), child.stderr.readAll(), child.wait(), feeding]);
  // Past a deadline, disposing the child makes the reads fail: nobody waits for them then.
  run.catch(() => {});
  const [stdout, stderr, status] = await (deadline === undefined ? run : deadline.wait(run));
  return { status, stdout, stderr };
}

async function feed(
  stdin: { writeAll(data: Uint8Array | string): Promise<void>; close(): void },
  data: Uint8Array | string,
): Promise<void> {
  try {
    await stdin.writeAll(data);
  } catch {
    // The child exited without reading all of it: that is its choice.
  } finally {
    stdin.close();
  }
}
