/**
 * The command line of `nk`: a verb, its operands and flags (anywhere on the
 * line; `--` ends the flags).
 *
 * @module
 */

import { parseDuration } from "./_address.ts";
import { UsageError } from "./_errors.ts";

/** The flags, after parsing. */
export interface Flags {
  verbose: boolean;
  progress: boolean;
  keep: boolean;
  fork: boolean;
  help: boolean;
  version: boolean;
  timeout?: number;
  exec?: string;
  family?: "inet" | "inet6";
  count?: number;
  interval?: number;
}

/** A parsed command line. */
export interface CommandLine {
  /** The verb (`undefined` when none was given). */
  verb?: string;
  /** The operands after the verb. */
  operands: string[];
  /** The flags. */
  flags: Flags;
  /** The flags as written, for checking which verb takes them. */
  given: string[];
}

const BOOLEAN_FLAGS: Record<string, keyof Flags> = {
  "--verbose": "verbose",
  "--progress": "progress",
  "--keep": "keep",
  "--fork": "fork",
  "--help": "help",
  "--version": "version",
};

const SHORT_FLAGS: Record<string, keyof Flags> = { v: "verbose", h: "help" };

const VALUE_FLAGS = ["--timeout", "--exec", "--family", "--count", "--interval"];

/** Which verbs take each flag (the others reject it). */
const FLAG_VERBS: Record<string, string[]> = {
  "--progress": ["connect", "listen", "relay"],
  "--keep": ["listen", "relay"],
  "--fork": ["listen", "relay"],
  "--exec": ["listen"],
  "--timeout": ["connect", "listen", "relay", "probe", "ping"],
  "--family": ["resolve", "ping"],
  "--count": ["ping"],
  "--interval": ["ping"],
};

function setValue(flags: Flags, name: string, value: string | undefined): void {
  if (value === undefined) throw new UsageError(`flag ${name} needs a value`);
  switch (name) {
    case "--timeout":
      flags.timeout = parseDuration(
        value,
        () =>
          new UsageError(`flag --timeout wants milliseconds (2000, 500ms or 2s), got "${value}"`),
      );
      break;
    case "--exec":
      if (value.trim() === "") throw new UsageError("flag --exec needs a command");
      flags.exec = value;
      break;
    case "--count": {
      const count = Number(value);
      if (!/^\d+$/.test(value) || count < 1 || count > 1_000_000) {
        throw new UsageError(`flag --count wants a whole number from 1, got "${value}"`);
      }
      flags.count = count;
      break;
    }
    case "--interval":
      flags.interval = parseDuration(
        value,
        () =>
          new UsageError(`flag --interval wants milliseconds (1000, 200ms or 1s), got "${value}"`),
      );
      break;
    case "--family":
      if (value !== "inet" && value !== "inet6") {
        throw new UsageError(`flag --family wants inet or inet6, got "${value}"`);
      }
      flags.family = value;
      break;
  }
}

/**
 * Parses the arguments after the program name.
 *
 * @param args As `Deno.args`.
 * @returns The verb, operands and flags.
 * @throws {UsageError} for an unknown flag or a missing or malformed value.
 */
export function parseCommandLine(args: readonly string[]): CommandLine {
  const flags: Flags = {
    verbose: false,
    progress: false,
    keep: false,
    fork: false,
    help: false,
    version: false,
  };
  const words: string[] = [];
  const given: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      words.push(...args.slice(i + 1));
      break;
    }
    if (arg.startsWith("--")) {
      const eq = arg.indexOf("=");
      const name = eq === -1 ? arg : arg.slice(0, eq);
      if (name in BOOLEAN_FLAGS) {
        if (eq !== -1) throw new UsageError(`flag ${name} takes no value`);
        (flags as unknown as Record<string, boolean>)[BOOLEAN_FLAGS[name]] = true;
      } else if (VALUE_FLAGS.includes(name)) {
        setValue(flags, name, eq === -1 ? args[++i] : arg.slice(eq + 1));
      } else {
        throw new UsageError(`unknown flag "${name}" (nk --help lists the flags)`);
      }
      given.push(name);
    } else if (arg.startsWith("-") && arg.length > 1) {
      for (const letter of arg.slice(1)) {
        const flag = SHORT_FLAGS[letter];
        if (flag === undefined) {
          throw new UsageError(`unknown flag "-${letter}" (nk --help lists the flags)`);
        }
        (flags as unknown as Record<string, boolean>)[flag] = true;
        given.push(`--${flag}`);
      }
    } else {
      words.push(arg);
    }
  }
  const [verb, ...operands] = words;
  return { verb, operands, flags, given };
}

/** Rejects a flag the verb does not take. */
export function checkFlags(verb: string, line: CommandLine): void {
  for (const name of line.given) {
    const verbs = FLAG_VERBS[name];
    if (verbs !== undefined && !verbs.includes(verb)) {
      throw new UsageError(
        `nk ${verb} does not take ${name} (it is for nk ${verbs.join(", nk ")})`,
      );
    }
  }
  if (line.flags.keep && line.flags.fork) {
    throw new UsageError("--keep and --fork exclude each other");
  }
}
