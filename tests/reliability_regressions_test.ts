/**
 * Regressions: one deterministic test per bug the reliability suites found
 * (each failed before its fix in `common/`).
 */
import assert from "node:assert/strict";
import { errorCodeOf, NetError } from "../mod.ts";
import { withDeadline } from "../common/_deadline.ts";
import { validateOptions } from "../common/_options.ts";
import { output, socketpair } from "../process/mod.ts";
import * as tcp from "../tcp/mod.ts";
import { bind } from "../udp/mod.ts";
import { rejection } from "./_helpers.ts";

// common/_deadline.ts: setTimeout fires after 1 ms for delays above 2^31 − 1.
Deno.test("a timeout above 2^31 − 1 ms does not fire at once (withDeadline, read, accept, connect)", async () => {
  const later = new Promise<string>((resolve) => setTimeout(() => resolve("in time"), 20));
  assert.equal(await withDeadline(later, { timeout: 2 ** 31 }, "test"), "in time");
  const [a, b] = await socketpair();
  try {
    const reading = a.read(16, { timeout: 3e9 }).catch((error) => error);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await b.writeAll("late");
    const got = await reading;
    assert.ok(got instanceof Uint8Array, `the read failed: ${got}`);
  } finally {
    a.close();
    b.close();
  }
  await using listener = tcp.listen({ hostname: "127.0.0.1", port: 0 });
  const accepting = listener.accept({ timeout: 1e12 }).catch((error) => error);
  await new Promise((resolve) => setTimeout(resolve, 20));
  // connect's timeout goes through deadlineSignal: it must not abort at once either.
  await using _client = await tcp.connect("127.0.0.1", listener.addr.port, { timeout: 2 ** 40 });
  const server = await accepting;
  assert.ok(!(server instanceof Error), `the accept failed: ${server}`);
  server.close();
});

// common/_deadline.ts: an expired deadline returned early and left the work's rejection unhandled.
Deno.test("an expired deadline leaves no unhandled rejection behind (udp sendTo to a bad host, timeout 0)", async () => {
  await using socket = await bind({ hostname: "127.0.0.1", port: 0 });
  const error = await rejection(socket.sendTo("x", "not a host!", 9, { timeout: 0 }));
  assert.ok(["timeout", "invalid_argument"].includes(error.code), error.message);
  const work = Promise.reject(new Error("the abandoned work failed"));
  assert.equal((await rejection(withDeadline(work, { timeout: 0 }, "test"))).code, "timeout");
  // Give an unhandled rejection the chance to surface (the test would fail).
  await new Promise((resolve) => setTimeout(resolve, 10));
});

// common/_deadline.ts: null options (accepted by validateOptions as "none") threw a TypeError.
Deno.test("null options mean no options for every waiting Stream call", async () => {
  const [a, b] = await socketpair();
  try {
    await b.writeAll("0123456789");
    assert.equal((await a.read(2, null as never))?.length, 2);
    assert.equal((await a.readExact(2, null as never)).length, 2);
    assert.equal(await a.write("x", null as never), 1);
    await a.writeAll("y", null as never);
    await b.shutdown("w");
    assert.equal((await a.readAll(null as never)).length, 6);
  } finally {
    a.close();
    b.close();
  }
});

// common/stream.ts: readExact's fast path did `n | 0` on a BigInt (TypeError).
Deno.test("readExact with a BigInt count is invalid_argument, buffered or not", async () => {
  const [a, b] = await socketpair();
  try {
    await b.writeAll("0123456789");
    assert.equal((await rejection(a.readExact(2n as never))).code, "invalid_argument");
    assert.equal((await a.read(1))?.length, 1);
    const error = await rejection(a.readExact(2n as never));
    assert.equal(error.code, "invalid_argument");
    assert.equal(error.field, "n");
  } finally {
    a.close();
    b.close();
  }
});

// common/stream.ts: readExact(n) reserved n bytes up front (RangeError for a huge n).
Deno.test("readExact of a huge count on a short stream ends unexpected_eof with the partial bytes", async () => {
  const [a, b] = await socketpair();
  try {
    await b.writeAll("only this");
    await b.shutdown("w");
    const error = await rejection(a.readExact(2 ** 50));
    assert.equal(error.code, "unexpected_eof");
    assert.equal(new TextDecoder().decode(error.partial), "only this");
  } finally {
    a.close();
    b.close();
  }
});

// common/errors.ts: `name in CLASS_CODES` matched Object.prototype members.
Deno.test("errorCodeOf returns a code for errors named like Object.prototype members", () => {
  for (const name of ["toString", "constructor", "__proto__", "hasOwnProperty", "valueOf"]) {
    const named = Object.assign(new Error("x"), { name });
    assert.equal(errorCodeOf(named), "unknown", name);
    const coded = Object.assign(new Error("x"), { code: name });
    assert.equal(errorCodeOf(coded), "unknown", name);
  }
});

// common/_options.ts: `schema[key]` found inherited members, so `{ toString: … }` was not "unknown".
Deno.test("options named like Object.prototype members are unknown options", () => {
  for (const key of ["toString", "constructor", "hasOwnProperty", "valueOf"]) {
    const error = (() => {
      try {
        validateOptions("test", { [key]: 1 }, { timeout: { type: "number" } });
      } catch (error) {
        return error as NetError;
      }
      assert.fail(`${key} was accepted`);
    })();
    assert.equal(error.code, "invalid_argument");
    assert.equal(error.field, key);
    assert.match(error.message, /unknown option/);
  }
  assert.throws(() => tcp.listen({ toString: undefined, valueOf: 5 } as never), NetError);
});

// process/output.ts: the whole-call deadline named its address from args[0] before args was checked.
Deno.test("output with args that are not an array is invalid_argument, also with a deadline", async () => {
  for (const options of [undefined, {}, { timeout: 1000 }]) {
    const error = await rejection(() => output(null as never, options));
    assert.ok(error instanceof NetError, String(error));
    assert.equal(error.code, "invalid_argument");
  }
});
