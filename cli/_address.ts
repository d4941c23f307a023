/**
 * The `nk` address syntax: `TYPE:TARGET[,OPTION[=VALUE]]...`, one for every
 * verb (socat's model with netkit's names and options).
 *
 * @module
 */

import { parseAddress } from "../mod.ts";
import { UsageError } from "./_errors.ts";

/** What kind of value an address option takes. */
type OptionType = "boolean" | "integer" | "mode" | "ms" | "string" | "file" | "list";

/** One option an address type accepts: the library's option name and its value type. */
interface OptionRule {
  name: string;
  type: OptionType;
}

/** Option values after parsing, keyed by the library's option name. */
export type AddressOptions = Record<string, boolean | number | string | string[]>;

/** Every address kind. */
export type AddressKind =
  | "stdio"
  | "tcp"
  | "tcp-listen"
  | "tls"
  | "tls-listen"
  | "udp"
  | "udp-listen"
  | "unix"
  | "unix-listen"
  | "exec";

/** A parsed address. */
export interface Address {
  /** The kind; `abstract:` is `unix` and `abstract-listen:` is `unix-listen` with an `@` path. */
  kind: AddressKind;
  /** The address as written, for messages. */
  text: string;
  /** Host name or IP (tcp, tls, udp and their listen forms; listen forms may leave it out). */
  host?: string;
  /** Port (tcp, tls, udp and their listen forms; 0 lets the kernel pick for listen forms). */
  port?: number;
  /** Socket path (unix forms; abstract names start with `@`). */
  path?: string;
  /** Program and arguments (exec). */
  argv?: string[];
  /** Options by the library's names. */
  options: AddressOptions;
}

const TIMEOUT: OptionRule = { name: "timeout", type: "ms" };
const NO_DELAY: OptionRule = { name: "noDelay", type: "boolean" };
const BACKLOG: OptionRule = { name: "backlog", type: "integer" };

/** The options of each kind, keyed by the name folded (lower case, no `-`/`_`). */
const RULES: Record<AddressKind, OptionRule[]> = {
  stdio: [],
  tcp: [TIMEOUT, NO_DELAY, { name: "keepAlive", type: "boolean" }],
  "tcp-listen": [BACKLOG, NO_DELAY, { name: "reusePort", type: "boolean" }],
  tls: [
    TIMEOUT,
    NO_DELAY,
    { name: "serverName", type: "string" },
    { name: "caFile", type: "file" },
    { name: "cert", type: "file" },
    { name: "key", type: "file" },
    { name: "alpn", type: "list" },
  ],
  "tls-listen": [
    BACKLOG,
    NO_DELAY,
    { name: "cert", type: "file" },
    { name: "key", type: "file" },
    { name: "alpn", type: "list" },
  ],
  udp: [TIMEOUT, { name: "reuseAddress", type: "boolean" }, {
    name: "loopback",
    type: "boolean",
  }],
  "udp-listen": [{ name: "reuseAddress", type: "boolean" }, { name: "loopback", type: "boolean" }],
  unix: [TIMEOUT],
  "unix-listen": [
    BACKLOG,
    { name: "mode", type: "mode" },
    { name: "owner", type: "integer" },
    { name: "group", type: "integer" },
    { name: "unlink", type: "boolean" },
    { name: "unlinkOnClose", type: "boolean" },
    { name: "mkdir", type: "boolean" },
  ],
  exec: [],
};

/** The address types as written, and the kind each means. */
const TYPES: Record<string, AddressKind> = {
  tcp: "tcp",
  "tcp-listen": "tcp-listen",
  tls: "tls",
  "tls-listen": "tls-listen",
  udp: "udp",
  "udp-listen": "udp-listen",
  unix: "unix",
  "unix-listen": "unix-listen",
  abstract: "unix",
  "abstract-listen": "unix-listen",
  exec: "exec",
  stdio: "stdio",
};

/** The address types, for messages and help. */
export const TYPE_NAMES: readonly string[] = Object.keys(TYPES);

/** Kinds that wait for a peer to come to them. */
export function isListening(kind: AddressKind): boolean {
  return kind.endsWith("-listen");
}

const fold = (name: string): string => name.toLowerCase().replace(/[-_]/g, "");

/** The option names a kind takes, for messages. */
function optionList(kind: AddressKind): string {
  const names = RULES[kind].map((rule) => rule.name);
  return names.length === 0 ? "no options" : names.join(", ");
}

/**
 * Splits `text` on commas that are outside quotes and not escaped; quotes
 * and backslashes are kept, for the caller to remove.
 */
function splitCommas(text: string, whole: string): string[] {
  const parts: string[] = [];
  let current = "";
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "\\" && quote !== "'" && i + 1 < text.length) {
      current += c + text[++i];
    } else if (quote !== null) {
      if (c === quote) quote = null;
      current += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      current += c;
    } else if (c === ",") {
      parts.push(current);
      current = "";
    } else {
      current += c;
    }
  }
  if (quote !== null) throw new UsageError(`unbalanced ${quote} in address "${whole}"`);
  parts.push(current);
  return parts;
}

/**
 * Shell-like words: blanks separate, single quotes keep everything, double
 * quotes keep all but `\"`, `\\`, `\$` and `` \` ``, a backslash outside
 * quotes keeps the next character.
 *
 * @param text The command line.
 * @param what How messages name it.
 * @returns The words.
 */
export function splitWords(text: string, what: string): string[] {
  return scan(text, what, true);
}

/** The word scanner; with `blanks` false, blanks are kept and one word results. */
function scan(text: string, what: string, blanks: boolean): string[] {
  const words: string[] = [];
  let current = "";
  let inWord = false;
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote === "'") {
      if (c === "'") quote = null;
      else current += c;
    } else if (quote === '"') {
      if (c === '"') quote = null;
      else if (c === "\\" && i + 1 < text.length && '"\\$`'.includes(text[i + 1])) {
        current += text[++i];
      } else current += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === "\\" && i + 1 < text.length) {
      current += text[++i];
      inWord = true;
    } else if (blanks && (c === " " || c === "\t" || c === "\n")) {
      if (inWord) words.push(current);
      current = "";
      inWord = false;
    } else {
      current += c;
      inWord = true;
    }
  }
  if (quote !== null) throw new UsageError(`unbalanced ${quote} in ${what}`);
  if (inWord) words.push(current);
  return words;
}

/** One piece with its quotes and escapes removed (it must be a single word). */
function unquote(text: string, whole: string): string {
  if (!/['"\\]/.test(text)) return text;
  return scan(text, `address "${whole}"`, false).join("");
}

function parseValue(rule: OptionRule, raw: string | undefined, kind: AddressKind, whole: string) {
  const bad = (wants: string) =>
    new UsageError(
      `option ${rule.name} of ${kind}: wants ${wants}, got ${
        raw === undefined ? "no value" : JSON.stringify(raw)
      } in "${whole}"`,
    );
  switch (rule.type) {
    case "boolean": {
      if (raw === undefined) return true;
      const value = raw.toLowerCase();
      if (["true", "yes", "on", "1"].includes(value)) return true;
      if (["false", "no", "off", "0"].includes(value)) return false;
      throw bad("true or false");
    }
    case "integer":
      if (raw === undefined || !/^\d+$/.test(raw)) throw bad("a whole number");
      return Number(raw);
    case "mode": {
      const digits = raw?.replace(/^0o/i, "");
      if (digits === undefined || !/^[0-7]{1,4}$/.test(digits)) {
        throw bad("permission bits in octal (e.g. 0660)");
      }
      return parseInt(digits, 8);
    }
    case "ms":
      return parseDuration(raw, () => bad("milliseconds (e.g. 2000, 500ms or 2s)"));
    case "list":
      if (raw === undefined || raw === "") throw bad("names separated by ':'");
      return raw.split(":");
    case "string":
    case "file":
      if (raw === undefined || raw === "") throw bad(rule.type === "file" ? "a file" : "a value");
      return raw;
  }
}

/**
 * A duration: milliseconds, with an optional `ms` or `s` suffix.
 *
 * @param raw The text (undefined: missing).
 * @param bad Makes the error for a malformed value.
 * @returns Milliseconds.
 */
export function parseDuration(raw: string | undefined, bad: () => Error): number {
  const match = raw === undefined ? null : /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(raw);
  if (match === null) throw bad();
  const value = Number(match[1]) * (match[2] === "s" ? 1000 : 1);
  if (!Number.isFinite(value) || value < 1) throw bad();
  return Math.round(value);
}

function hostPort(
  kind: AddressKind,
  target: string,
  whole: string,
): { host?: string; port: number } {
  const listening = isListening(kind);
  if (target === "") {
    throw new UsageError(
      `address "${whole}" needs ${listening ? "[HOST:]PORT" : "HOST:PORT"} after ${kind}:`,
    );
  }
  if (listening && /^\d+$/.test(target)) {
    const port = Number(target);
    if (port > 65535) throw new UsageError(`port ${target} is out of range in "${whole}"`);
    return { port };
  }
  let parsed;
  try {
    parsed = parseAddress(target);
  } catch (error) {
    const detail = error instanceof Error ? error.message.replace(/^[^:]*: /, "") : String(error);
    throw new UsageError(`bad address "${whole}": ${detail}`);
  }
  if (!listening && parsed.port === 0) {
    throw new UsageError(`address "${whole}" has no port (${kind}:HOST:PORT)`);
  }
  return { host: parsed.hostname, port: parsed.port };
}

/**
 * Parses one address of the command line.
 *
 * @param text The address as written (`-` is stdio).
 * @returns The address.
 * @throws {UsageError} naming the address, the option or the value.
 */
export function parseCliAddress(text: string): Address {
  if (text === "-" || text.toLowerCase() === "stdio" || text.toLowerCase() === "stdio:") {
    return { kind: "stdio", text, options: {} };
  }
  const colon = text.indexOf(":");
  if (colon <= 0) {
    throw new UsageError(
      `bad address "${text}": expected TYPE:TARGET, where TYPE is one of ${
        TYPE_NAMES.join(", ")
      } (or - for stdio)`,
    );
  }
  const type = text.slice(0, colon).toLowerCase();
  const kind = TYPES[type];
  if (kind === undefined) {
    throw new UsageError(
      `unknown address type "${text.slice(0, colon)}" in "${text}" (known: ${
        TYPE_NAMES.join(", ")
      }, -)`,
    );
  }
  const [rawTarget, ...rawOptions] = splitCommas(text.slice(colon + 1), text);
  const options: AddressOptions = {};
  const rules = new Map(RULES[kind].map((rule) => [fold(rule.name), rule]));
  for (const piece of rawOptions) {
    if (piece === "") throw new UsageError(`empty option in address "${text}"`);
    const eq = piece.indexOf("=");
    const name = eq === -1 ? piece : piece.slice(0, eq);
    const raw = eq === -1 ? undefined : unquote(piece.slice(eq + 1), text);
    const rule = rules.get(fold(name));
    if (rule === undefined) {
      throw new UsageError(
        `unknown option "${name}" in address "${text}" (${type}: takes ${optionList(kind)})`,
      );
    }
    if (rule.name in options) {
      throw new UsageError(`option ${rule.name} given twice in address "${text}"`);
    }
    options[rule.name] = parseValue(rule, raw, kind, text);
  }
  const address: Address = { kind, text, options };
  switch (kind) {
    case "exec": {
      const argv = splitWords(rawTarget, `address "${text}"`);
      if (argv.length === 0) throw new UsageError(`address "${text}" needs a command after exec:`);
      address.argv = argv;
      break;
    }
    case "unix":
    case "unix-listen": {
      const path = unquote(rawTarget, text);
      if (path === "") throw new UsageError(`address "${text}" needs a path after ${type}:`);
      address.path = type.startsWith("abstract") ? `@${path}` : path;
      break;
    }
    case "stdio":
      if (rawTarget !== "") throw new UsageError(`stdio takes nothing after the colon: "${text}"`);
      break;
    default:
      Object.assign(address, hostPort(kind, unquote(rawTarget, text), text));
  }
  return address;
}

/** The listening form of a connecting address (`tcp:` → `tcp-listen:`), for `nk listen`. */
export function asListening(address: Address): Address {
  if (isListening(address.kind)) return address;
  const kind =
    ({ tcp: "tcp-listen", unix: "unix-listen", udp: "udp-listen", tls: "tls-listen" } as const)[
      address.kind as "tcp" | "unix" | "udp" | "tls"
    ];
  if (kind === undefined) {
    throw new UsageError(
      `nk listen needs a listening address (tcp-listen:, unix-listen:, abstract-listen:, udp-listen:, tls-listen:), not "${address.text}"`,
    );
  }
  const known = new Set(RULES[kind].map((rule) => rule.name));
  for (const name of Object.keys(address.options)) {
    if (!known.has(name)) {
      throw new UsageError(
        `option ${name} does not apply to listening on "${address.text}" (${kind}: takes ${
          optionList(kind)
        })`,
      );
    }
  }
  return { ...address, kind };
}
