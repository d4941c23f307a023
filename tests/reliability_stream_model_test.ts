/**
 * The shared Stream against a model (fast-check): random bytes with line
 * endings, written in random pieces while a random sequence of `read`,
 * `readInto`, `readExact`, `readLine`, `readUntil` and `readAll` consumes
 * them. Every answer must be what a plain cursor over the same bytes says:
 * the same bytes in the same order, nothing lost or repeated, `null` only at
 * the end, and `unexpected_eof` (with the partial bytes) or `invalid_argument`
 * (with the bytes kept) exactly where the model puts them. Reads answered
 * from buffered bytes and reads that wait for the runtime are both covered,
 * since the writer and the reader run side by side.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { NetError } from "../common/errors.ts";
import { socketpair } from "../process/mod.ts";
import { params } from "./_fuzz.ts";
import { concat } from "./_tcp_helpers.ts";

type Op =
  | { kind: "read"; max: number }
  | { kind: "readInto"; size: number }
  | { kind: "readExact"; n: number }
  | { kind: "readLine"; maxBytes?: number }
  | { kind: "readUntil"; delimiter: string }
  | { kind: "readAll" };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.integer({ min: 1, max: 300 }).map((max): Op => ({ kind: "read", max })),
  fc.integer({ min: 1, max: 300 }).map((size): Op => ({ kind: "readInto", size })),
  fc.integer({ min: 0, max: 300 }).map((n): Op => ({ kind: "readExact", n })),
  fc.constant<Op>({ kind: "readLine" }),
  fc.integer({ min: 1, max: 40 }).map((maxBytes): Op => ({ kind: "readLine", maxBytes })),
  fc.constantFrom(";", "::", "\r\n").map((delimiter): Op => ({ kind: "readUntil", delimiter })),
  fc.constant<Op>({ kind: "readAll" }),
);

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Bytes rich in delimiters: random runs, newlines, CRLFs, `;`, `::` and long runs. */
const payload = fc.array(
  fc.oneof(
    fc.uint8Array({ minLength: 1, maxLength: 60 }),
    fc.constantFrom("\n", "\r\n", ";", "::", "abc\n").map((text) => encoder.encode(text)),
    // Now and then a long run: the buffer grows, and lines pass the 64 KiB limit.
    fc.integer({ min: 3000, max: 70_000 }).map((n) => new Uint8Array(n).fill(65)),
  ),
  { maxLength: 40 },
).map(concat);

function indexOf(bytes: Uint8Array, needle: Uint8Array, from: number): number {
  outer: for (let i = from; i <= bytes.length - needle.length; i++) {
    for (let j = 0; j < needle.length; j++) if (bytes[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** What the stream must answer: a value, or a NetError code with its bytes. */
type Expected =
  | { value: Uint8Array | string | null }
  | { code: "unexpected_eof"; partial: Uint8Array }
  | { code: "invalid_argument" };

/** A cursor over all the bytes the peer sends before it ends the stream. */
class Model {
  at = 0;
  constructor(readonly bytes: Uint8Array) {}

  get rest(): number {
    return this.bytes.length - this.at;
  }

  take(n: number): Uint8Array {
    const out = this.bytes.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }

  /** The record up to `delimiter`, honouring a `maxBytes` limit. */
  until(delimiter: Uint8Array, maxBytes: number): Expected {
    const found = indexOf(this.bytes, delimiter, this.at);
    if (found !== -1 && found - this.at <= maxBytes) {
      const record = this.take(found - this.at);
      this.at += delimiter.length;
      return { value: record };
    }
    // No delimiter within the limit: refused, bytes kept, once more than the
    // limit is there; otherwise the stream ends inside the record.
    if (found !== -1 || this.rest - delimiter.length + 1 > maxBytes) {
      return { code: "invalid_argument" };
    }
    if (this.rest === 0) return { value: null };
    return { code: "unexpected_eof", partial: this.take(this.rest) };
  }
}

function line(record: Uint8Array): string {
  const end = record.length > 0 && record[record.length - 1] === 13
    ? record.length - 1
    : record.length;
  return decoder.decode(record.subarray(0, end));
}

Deno.test("stream reads of every kind, interleaved with the writer, match a model of the bytes", async () => {
  await fc.assert(
    fc.asyncProperty(
      payload,
      fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 10 }),
      fc.array(op, { minLength: 1, maxLength: 14 }),
      async (bytes, cuts, ops) => {
        const [ours, peer] = await socketpair();
        try {
          // The writer sends the bytes in pieces, then ends the stream, while
          // the reader works through the ops.
          const writing = (async () => {
            let at = 0;
            for (let i = 0; at < bytes.length; i++) {
              const size = cuts[i % cuts.length];
              await peer.writeAll(bytes.subarray(at, at + size));
              at += size;
            }
            await peer.shutdown("w");
          })();
          const model = new Model(bytes);
          for (const step of ops) {
            const name = JSON.stringify(step);
            let got: Uint8Array | string | null;
            try {
              got = await perform(ours, step);
            } catch (error) {
              assert.ok(error instanceof NetError, `${name}: ${error}`);
              const expected = expect(model, step, true);
              assert.ok("code" in expected, `${name}: failed ${error.code}, model: success`);
              assert.equal(error.code, expected.code, name);
              if (expected.code === "unexpected_eof") {
                assert.deepEqual(error.partial, expected.partial, `${name}: partial bytes`);
              }
              continue;
            }
            if (step.kind === "read" || step.kind === "readInto") {
              // As much as has arrived: at least one byte, at most the limit.
              const bytesGot = got as Uint8Array | null;
              if (bytesGot === null) {
                assert.equal(model.rest, 0, `${name}: null with ${model.rest} bytes to come`);
              } else {
                const limit = step.kind === "read" ? step.max : step.size;
                assert.ok(bytesGot.length >= 1 && bytesGot.length <= limit, name);
                assert.deepEqual(bytesGot, model.take(bytesGot.length), `${name}: bytes`);
              }
              continue;
            }
            const expected = expect(model, step, false);
            assert.ok(
              "value" in expected,
              `${name}: succeeded, model: ${JSON.stringify(expected)}`,
            );
            assert.deepEqual(got, expected.value, name);
          }
          // Nothing is lost: what the ops left is still there, in order.
          assert.deepEqual(await ours.readAll({ timeout: 5000 }), model.take(model.rest));
          await writing;
        } finally {
          ours.close();
          peer.close();
        }
      },
    ),
    params(120),
  );
});

async function perform(stream: import("../common/stream.ts").Stream, step: Op) {
  switch (step.kind) {
    case "read":
      return await stream.read(step.max);
    case "readInto": {
      const buffer = new Uint8Array(step.size);
      const n = await stream.readInto(buffer);
      return n === null ? null : buffer.subarray(0, n);
    }
    case "readExact":
      return await stream.readExact(step.n);
    case "readLine":
      return await stream.readLine(
        step.maxBytes === undefined ? undefined : { maxBytes: step.maxBytes },
      );
    case "readUntil":
      return await stream.readUntil(step.delimiter);
    case "readAll":
      return await stream.readAll();
  }
}

/** The model's answer for the ops with one right answer. */
function expect(model: Model, step: Op, failed: boolean): Expected {
  switch (step.kind) {
    case "readExact": {
      if (model.rest >= step.n) return { value: model.take(step.n) };
      return { code: "unexpected_eof", partial: model.take(model.rest) };
    }
    case "readLine": {
      const answer = model.until(encoder.encode("\n"), step.maxBytes ?? 64 * 1024);
      return "value" in answer && answer.value instanceof Uint8Array
        ? { value: line(answer.value) }
        : answer;
    }
    case "readUntil":
      return model.until(encoder.encode(step.delimiter), 64 * 1024);
    case "readAll":
      return { value: model.take(model.rest) };
    default:
      // read/readInto never fail here.
      assert.fail(`${step.kind} ${failed ? "failed" : "has no model answer"}`);
  }
}
