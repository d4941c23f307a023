/**
 * Leaks: the same load repeated in rounds (TCP and unix echo clients, short
 * connections, UDP datagrams) in a child run with `--expose-gc`; after GC
 * between rounds, neither RSS nor the JS heap nor the descriptor count may
 * keep growing. Bounds are generous ratios, never timings.
 */
import assert from "node:assert/strict";
import { report, SCALE } from "./_scale.ts";

interface RoundUsage {
  round: number;
  rss: number;
  heapUsed: number;
  external: number;
  descriptors: number;
  peakMiB: number;
}

const MiB = 1024 * 1024;

Deno.test(`stress: ${SCALE.rounds} rounds of ${SCALE.roundClients} clients each leave RSS, heap and descriptors flat`, async () => {
  const child = new URL("./_memory_child.ts", import.meta.url);
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      "--no-config",
      "--unstable-net",
      "--v8-flags=--expose-gc",
      child.pathname,
      String(SCALE.rounds),
      String(SCALE.roundClients),
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const errors = new TextDecoder().decode(stderr);
  assert.equal(code, 0, `memory child failed:\n${errors}`);
  const rounds: RoundUsage[] = new TextDecoder().decode(stdout).trim().split("\n")
    .map((line) => JSON.parse(line));
  assert.equal(rounds.length, SCALE.rounds);
  for (const { round, rss, heapUsed, external, descriptors, peakMiB } of rounds) {
    report(`memory round ${round}`, {
      rss_mib: (rss / MiB).toFixed(1),
      heap_used_mib: (heapUsed / MiB).toFixed(1),
      external_mib: (external / MiB).toFixed(1),
      descriptors,
      peak_rss_mib: peakMiB,
    });
  }
  const second = rounds[1];
  const last = rounds[rounds.length - 1];
  assert.ok(
    last.rss < second.rss * 1.5,
    `RSS grew: round ${last.round} ${last.rss} vs round 2 ${second.rss}`,
  );
  assert.ok(
    last.heapUsed < second.heapUsed * 1.5,
    `heap grew: round ${last.round} ${last.heapUsed} vs round 2 ${second.heapUsed}`,
  );
  // The runtime opens a few descriptors lazily (worker threads); a leak would be one or
  // more per connection, i.e. hundreds per round.
  assert.ok(
    last.descriptors <= second.descriptors + 4,
    `descriptors grew: round ${last.round} ${last.descriptors} vs round 2 ${second.descriptors}`,
  );
});
