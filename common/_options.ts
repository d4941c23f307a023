/**
 * The option validator every public netkit function uses: unknown fields,
 * wrong types and out-of-range values throw `invalid_argument` naming the
 * field and what it accepts.
 *
 * @module
 */

import { NetError } from "./errors.ts";

/** One field's rule. */
export type Rule =
  | { type: "boolean" }
  | { type: "integer"; min?: number; max?: number }
  | { type: "number"; min?: number; max?: number }
  | { type: "string"; values?: readonly string[]; nonEmpty?: boolean }
  | { type: "signal" }
  | { type: "function" }
  | { type: "custom"; accepts: string; check: (value: unknown) => boolean };

/** A schema: field name → rule. */
export type Schema = Record<string, Rule>;

/** The rules of `{ timeout, signal }`, shared by every waiting call. */
export const DEADLINE_RULES: Schema = {
  timeout: { type: "number", min: 0 },
  signal: { type: "signal" },
};

function describe(rule: Rule): string {
  switch (rule.type) {
    case "boolean":
      return "a boolean";
    case "integer":
    case "number": {
      const kind = rule.type === "integer" ? "an integer" : "a finite number";
      if (rule.min !== undefined && rule.max !== undefined) {
        return `${kind} from ${rule.min} to ${rule.max}`;
      }
      if (rule.min !== undefined) return `${kind} ≥ ${rule.min}`;
      if (rule.max !== undefined) return `${kind} ≤ ${rule.max}`;
      return kind;
    }
    case "string":
      if (rule.values) return `one of ${rule.values.map((v) => JSON.stringify(v)).join(", ")}`;
      return rule.nonEmpty ? "a non-empty string" : "a string";
    case "signal":
      return "an AbortSignal";
    case "function":
      return "a function";
    case "custom":
      return rule.accepts;
  }
}

function fits(rule: Rule, value: unknown): boolean {
  switch (rule.type) {
    case "boolean":
      return typeof value === "boolean";
    case "integer":
    case "number":
      if (typeof value !== "number" || !Number.isFinite(value)) return false;
      if (rule.type === "integer" && !Number.isInteger(value)) return false;
      return (rule.min === undefined || value >= rule.min) &&
        (rule.max === undefined || value <= rule.max);
    case "string":
      if (typeof value !== "string") return false;
      if (rule.nonEmpty && value === "") return false;
      return !rule.values || rule.values.includes(value);
    case "signal":
      return value instanceof AbortSignal;
    case "function":
      return typeof value === "function";
    case "custom":
      return rule.check(value);
  }
}

/** Formats a rejected value for a message, briefly. */
export function show(value: unknown): string {
  if (typeof value === "string") {
    return JSON.stringify(value.length > 40 ? value.slice(0, 40) + "…" : value);
  }
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (value === null || value === undefined) return String(value);
  if (typeof value === "bigint") return `${value}n`;
  if (value instanceof Uint8Array) return `Uint8Array(${value.length})`;
  return Object.prototype.toString.call(value);
}

/**
 * Throws `invalid_argument` for one argument.
 *
 * @param op The operation, e.g. `"listen"`.
 * @param field The argument or option name.
 * @param accepts What it accepts, e.g. `"a positive integer"`.
 * @param value What was given.
 */
export function invalidArgument(
  op: string,
  field: string,
  accepts: string,
  value: unknown,
): NetError {
  return new NetError(
    "invalid_argument",
    `${field} must be ${accepts} (got ${show(value)})`,
    { op, field },
  );
}

/** What `validateOptions` returns for no options: nothing to read. */
const NO_OPTIONS = Object.freeze({});

/**
 * Checks an options object against a schema and returns a plain copy of it:
 * each field is read exactly once (a getter cannot answer one thing to the
 * check and another to the use), so callers use only the copy. `undefined`
 * fields are allowed (they mean "the default").
 *
 * @param op The operation, for the error message.
 * @param options What the caller passed (`undefined` means no options).
 * @param schema The accepted fields.
 * @throws {NetError} `invalid_argument` naming the field.
 */
export function validateOptions<T extends object>(
  op: string,
  options: unknown,
  schema: Schema,
): T {
  if (options === undefined || options === null) return NO_OPTIONS as T;
  if (typeof options !== "object" || Array.isArray(options)) {
    throw invalidArgument(op, "options", "an object", options);
  }
  const copy: Record<string, unknown> = {};
  for (const key in options) {
    const rule = Object.hasOwn(schema, key) ? schema[key] : undefined;
    if (rule === undefined) {
      const known = Object.keys(schema).join(", ");
      throw new NetError(
        "invalid_argument",
        `unknown option ${JSON.stringify(key)}; accepted options: ${known || "none"}`,
        { op, field: key },
      );
    }
    const value = (options as Record<string, unknown>)[key];
    if (value !== undefined && !fits(rule, value)) {
      throw invalidArgument(op, key, describe(rule), value);
    }
    copy[key] = value;
  }
  return copy as T;
}

/**
 * Checks one positional argument against a rule.
 *
 * @throws {NetError} `invalid_argument` naming the argument.
 */
export function validateArgument(
  op: string,
  field: string,
  value: unknown,
  rule: Rule,
): void {
  if (!fits(rule, value)) throw invalidArgument(op, field, describe(rule), value);
}
