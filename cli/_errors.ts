/**
 * Exit codes of the `nk` command and the mapping from failures to them.
 *
 * @module
 */

import { NetError } from "../mod.ts";
import type { ErrorCode } from "../mod.ts";

/** The exit code of each failure class, as `--help` and docs/cli.md list them. */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  unreachable: 3,
  timeout: 4,
  permission: 5,
  unsupported: 6,
  interrupted: 130,
  terminated: 143,
} as const;

/** A mistake on the command line: a one-line message, exit code 2. */
export class UsageError extends Error {
  /**
   * Makes the error.
   *
   * @param message What was wrong, naming the argument.
   */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** Something this build of netkit cannot do: a one-line message, exit code 6. */
export class UnsupportedError extends Error {
  /**
   * Makes the error.
   *
   * @param message What is missing.
   */
  constructor(message: string) {
    super(message);
    this.name = "UnsupportedError";
  }
}

const BY_CODE: Partial<Record<ErrorCode, number>> = {
  invalid_argument: EXIT.usage,
  connection_refused: EXIT.unreachable,
  not_found: EXIT.unreachable,
  name_not_resolved: EXIT.unreachable,
  host_unreachable: EXIT.unreachable,
  address_not_available: EXIT.unreachable,
  timeout: EXIT.timeout,
  access_denied: EXIT.permission,
  not_supported: EXIT.unsupported,
};

/** The exit code for a failure. */
export function exitCodeOf(error: unknown): number {
  if (error instanceof UsageError) return EXIT.usage;
  if (error instanceof UnsupportedError) return EXIT.unsupported;
  if (error instanceof NetError) return BY_CODE[error.code] ?? EXIT.failure;
  if (error instanceof Deno.errors.NotCapable) return EXIT.permission;
  return EXIT.failure;
}

/** The one line printed for a failure (never a stack trace). */
export function messageOf(error: unknown): string {
  if (error instanceof Error) {
    const text = error.message.split("\n")[0];
    return error instanceof NetError || error instanceof UsageError ||
        error instanceof UnsupportedError || error instanceof Deno.errors.NotCapable
      ? text
      : `internal error: ${text}`;
  }
  return `internal error: ${String(error)}`;
}
