/**
 * The signal names and numbers `Process.kill` accepts.
 *
 * @module
 */

import { invalidArgument } from "../common/_options.ts";

const SIGNALS: ReadonlySet<string> = new Set([
  "SIGABRT",
  "SIGALRM",
  "SIGBUS",
  "SIGCHLD",
  "SIGCONT",
  "SIGFPE",
  "SIGHUP",
  "SIGILL",
  "SIGINT",
  "SIGIO",
  "SIGKILL",
  "SIGPIPE",
  "SIGPOLL",
  "SIGPROF",
  "SIGPWR",
  "SIGQUIT",
  "SIGSEGV",
  "SIGSTKFLT",
  "SIGSTOP",
  "SIGSYS",
  "SIGTERM",
  "SIGTRAP",
  "SIGTSTP",
  "SIGTTIN",
  "SIGTTOU",
  "SIGURG",
  "SIGUSR1",
  "SIGUSR2",
  "SIGVTALRM",
  "SIGWINCH",
  "SIGXCPU",
  "SIGXFSZ",
]);

/** Throws `invalid_argument` unless `signal` is a signal name or number. */
export function checkSignal(op: string, signal: unknown): Deno.Signal | number {
  if (typeof signal === "string" && SIGNALS.has(signal)) return signal as Deno.Signal;
  if (typeof signal === "number" && Number.isInteger(signal) && signal >= 1 && signal <= 64) {
    return signal;
  }
  throw invalidArgument(op, "signal", 'a signal name such as "SIGTERM", or 1..64', signal);
}
