/**
 * A `timeout` is a deadline for the whole call, not an idle timeout: a peer
 * that dribbles bytes (the slowloris pattern) cannot keep a framed read, a
 * queued read or a write waiting past it, and a timed-out call still
 * consumes nothing. Options are read once.
 */
import assert from "node:assert/strict";
import { NetError } from "../common/errors.ts";
import type { Stream } from "../common/stream.ts";
import { PAIRS } from "./_helpers.ts";

/** The longest any call under test may take before the test calls it a hang. */
const HANG = 5_000;
const DRIBBLE_MS = 20;
const TIMEOUT = 200;

/** Sends `byte` every DRIBBLE_MS until stopped; resolves when stopped. */
function dribble(into: Stream, byte: number): { stop(): Promise<number> } {
  let running = true;
  let sent = 0;
  const one = new Uint8Array([byte]);
  const done = (async () => {
    // Bounded: a failing call is cut off by HANG long before this runs out.
    for (let i = 0; running && i < HANG / DRIBBLE_MS; i++) {
      await into.writeAll(one);
      sent++;
      await new Promise((resolve) => setTimeout(resolve, DRIBBLE_MS));
    }
  })();
  return {
    async stop() {
      running = false;
      await done;
      return sent;
    },
  };
}

/** Rejects with code `timeout`, or fails the test once HANG has passed. */
async function timesOut(call: Promise<unknown>): Promise<void> {
  let guard: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<"hang">((resolve) => {
    guard = setTimeout(() => resolve("hang"), HANG);
  });
  try {
    const outcome = await Promise.race([
      call.then(() => "resolved", (error: unknown) => error),
      hang,
    ]);
    assert.notEqual(outcome, "hang", `still waiting after ${HANG} ms: the timeout never fired`);
    assert.ok(outcome instanceof NetError, `expected a NetError, got ${String(outcome)}`);
    assert.equal(outcome.code, "timeout");
  } finally {
    clearTimeout(guard);
  }
}

const READS: [string, (s: Stream) => Promise<unknown>][] = [
  ["readLine", (s) => s.readLine({ timeout: TIMEOUT })],
  ["readUntil", (s) => s.readUntil(";", { timeout: TIMEOUT })],
  ["readExact", (s) => s.readExact(10_000, { timeout: TIMEOUT })],
  ["readAll", (s) => s.readAll({ timeout: TIMEOUT })],
];

for (const [kind, makePair] of PAIRS) {
  for (const [name, read] of READS) {
    Deno.test(`${kind}: ${name}'s timeout holds against a peer that dribbles a byte every 20 ms, and consumes nothing`, async () => {
      await using pair = await makePair();
      const peer = dribble(pair.client, 0x61);
      await timesOut(read(pair.server));
      const sent = await peer.stop();
      // Nothing was consumed: every dribbled byte is still there, in order.
      await pair.client.writeAll("\n");
      const line = await pair.server.readLine({ timeout: HANG });
      assert.equal(line, "a".repeat(sent));
    });
  }

  Deno.test(`${kind}: a read queued behind another has one deadline for its wait and its reads`, async () => {
    await using pair = await makePair();
    const peer = dribble(pair.client, 0x62);
    // The first reader holds the lock for about 5 dribbled bytes, then the
    // second one would restart its clock under a per-wait timeout.
    const first = pair.server.readExact(5);
    const second = pair.server.readExact(10_000, { timeout: TIMEOUT });
    await timesOut(second);
    assert.equal((await first).length, 5);
    await peer.stop();
  });

  Deno.test(`${kind}: writeAll's timeout holds while a slow reader keeps the write moving`, async () => {
    await using pair = await makePair();
    let reading = true;
    const reader = (async () => {
      // About 12 MB/s: each runtime write finds room within milliseconds.
      const chunk = new Uint8Array(64 * 1024);
      for (let i = 0; reading && i < HANG / 5; i++) {
        if (await pair.server.readInto(chunk) === null) return;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    const total = 128 * 1024 * 1024;
    let error: unknown;
    let guard: ReturnType<typeof setTimeout> | undefined;
    const hang = new Promise<"hang">((resolve) => {
      guard = setTimeout(() => resolve("hang"), HANG);
    });
    try {
      const outcome = await Promise.race([
        pair.client.writeAll(new Uint8Array(total), { timeout: TIMEOUT }).then(
          () => "resolved",
          (e: unknown) => (error = e, "rejected"),
        ),
        hang,
      ]);
      assert.equal(outcome, "rejected", `writeAll ${outcome} instead of timing out`);
    } finally {
      clearTimeout(guard);
      reading = false;
    }
    assert.ok(error instanceof NetError);
    assert.equal(error.code, "timeout");
    assert.ok(error.written !== undefined && error.written < total);
    pair.client.close();
    await reader.catch(() => {});
  });

  Deno.test(`${kind}: a CRLF line of exactly maxBytes is accepted, one byte more is not`, async () => {
    await using pair = await makePair();
    await pair.client.writeAll("0123456789\r\n0123456789\n");
    assert.equal(await pair.server.readLine({ maxBytes: 10 }), "0123456789");
    assert.equal(await pair.server.readLine({ maxBytes: 10 }), "0123456789");
    // Through the fast path (no options) too: a full default-size CRLF line.
    const long = "x".repeat(64 * 1024);
    await pair.client.writeAll(`${long}\r\n${long}x\n`);
    assert.equal(await pair.server.readLine(), long);
    await assert.rejects(
      () => pair.server.readLine(),
      (e: NetError) =>
        e.code === "invalid_argument" && e.op === "readLine" && e.field === "maxBytes",
    );
  });
}

/** An options object whose `timeout` answers 5 to the check and a Symbol to any later read. */
function twoFaced(): { timeout: number } {
  let reads = 0;
  return {
    get timeout() {
      return (reads++ === 0 ? 5 : Symbol("later")) as unknown as number;
    },
  };
}

Deno.test("each option is read once: a getter cannot answer one thing to the check and another to the use", async () => {
  await using pair = await PAIRS[0][1]();
  for (
    const call of [
      (s: Stream) => s.read(10, twoFaced()),
      (s: Stream) => s.readExact(4, twoFaced()),
      (s: Stream) => s.readLine(twoFaced()),
      (s: Stream) => s.readAll(twoFaced()),
    ]
  ) {
    await assert.rejects(() => call(pair.server), (e: NetError) => e.code === "timeout");
  }
});
