import assert from "node:assert/strict";
import { NetError } from "../common/errors.ts";
import { DEADLINE_RULES, validateArgument, validateOptions } from "../common/_options.ts";
import type { Schema } from "../common/_options.ts";

const SCHEMA: Schema = {
  ...DEADLINE_RULES,
  backlog: { type: "integer", min: 1 },
  mode: { type: "integer", min: 0, max: 0o777 },
  reuse: { type: "boolean" },
  family: { type: "string", values: ["inet", "inet6"] },
  name: { type: "string", nonEmpty: true },
  onError: { type: "function" },
  even: {
    type: "custom",
    accepts: "an even number",
    check: (v) => typeof v === "number" && v % 2 === 0,
  },
};

function rejected(options: unknown): NetError {
  try {
    validateOptions("listen", options, SCHEMA);
  } catch (error) {
    assert.ok(error instanceof NetError);
    assert.equal(error.code, "invalid_argument");
    assert.equal(error.op, "listen");
    return error;
  }
  assert.fail(`accepted ${JSON.stringify(options)}`);
}

Deno.test("validateOptions accepts valid options, undefined fields and no options", () => {
  const signal = new AbortController().signal;
  const options = { backlog: 5, mode: 0o600, reuse: false, family: "inet", timeout: 0, signal };
  // A plain copy, each field read once: the caller's object is not used again.
  const copy = validateOptions("listen", options, SCHEMA);
  assert.deepEqual(copy, options);
  assert.notEqual(copy, options);
  assert.deepEqual(validateOptions("listen", undefined, SCHEMA), {});
  assert.deepEqual(validateOptions("listen", { backlog: undefined }, SCHEMA), {
    backlog: undefined,
  });
});

Deno.test("validateOptions rejects an unknown field and lists the accepted ones", () => {
  const error = rejected({ backlgo: 5 });
  assert.equal(error.field, "backlgo");
  assert.match(
    error.message,
    /unknown option "backlgo"; accepted options: timeout, signal, backlog/,
  );
});

Deno.test("validateOptions rejects wrong types and out-of-range values naming the field", () => {
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [{ backlog: -1 }, "backlog", /an integer ≥ 1 \(got -1\)/],
    [{ backlog: 1.5 }, "backlog", /integer/],
    [{ backlog: "5" }, "backlog", /got "5"/],
    [{ mode: 0o1000 }, "mode", /from 0 to 511/],
    [{ timeout: -5 }, "timeout", /≥ 0/],
    [{ timeout: NaN }, "timeout", /finite/],
    [{ timeout: Infinity }, "timeout", /finite/],
    [{ signal: {} }, "signal", /AbortSignal/],
    [{ reuse: 1 }, "reuse", /boolean/],
    [{ family: "inet4" }, "family", /one of "inet", "inet6"/],
    [{ name: "" }, "name", /non-empty/],
    [{ onError: "no" }, "onError", /function/],
    [{ even: 3 }, "even", /an even number/],
  ];
  for (const [options, field, message] of cases) {
    const error = rejected(options);
    assert.equal(error.field, field);
    assert.match(error.message, message);
  }
});

Deno.test("validateOptions rejects a non-object options argument", () => {
  for (const value of [5, "x", [], true]) assert.equal(rejected(value).field, "options");
});

Deno.test("validateArgument checks one positional argument", () => {
  validateArgument("read", "max", 5, { type: "integer", min: 1 });
  assert.throws(
    () => validateArgument("read", "max", 0, { type: "integer", min: 1 }),
    (e: NetError) => e.code === "invalid_argument" && e.field === "max",
  );
});
