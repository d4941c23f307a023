/**
 * Processes wired by hand, XPIO style: a two-process pipeline made with
 * `pipe()` and `files`, a child that reports on fd 3 while its stdout stays
 * free, and a child that talks over a `socketpair`.
 *
 * Run: `deno run -A examples/spawn_pipeline.ts`
 *
 * @module
 */

import { pipe, socketpair, spawn } from "../process/mod.ts";

/** Runs the three scenes; returns one readable line per result. */
export async function demo(): Promise<string[]> {
  const lines: string[] = [];

  // producer | consumer: the pipe's ends are handed over and closed here.
  const [reader, writer] = await pipe();
  await using producer = await spawn(["seq", "1", "100"], { files: { 1: writer } });
  await using consumer = await spawn(["awk", "{ s += $1 } END { print s }"], {
    files: { 0: reader, 1: "piped" },
  });
  lines.push(`pipeline: seq 1 100 | awk sum = ${await consumer.stdout.readLine()}`);
  const [first, second] = [await producer.wait(), await consumer.wait()];
  lines.push(`pipeline: statuses ${JSON.stringify(first)} ${JSON.stringify(second)}`);

  // Progress on fd 3, results on stdout.
  await using worker = await spawn(
    ["sh", "-c", "for i in 1 2 3; do echo step $i >&3; done; echo result 42"],
    { files: { 1: "piped", 3: "piped" } },
  );
  const progress = new TextDecoder().decode(await worker.stdio[3]!.readAll()).trim();
  lines.push(`fd 3: ${progress.split("\n").join(", ")}; stdout: ${await worker.stdout.readLine()}`);
  await worker.wait();

  // A child on one end of a socket pair, as its stdin and stdout.
  const [mine, theirs] = await socketpair();
  await using upper = await spawn(["tr", "a-z", "A-Z"], { files: { 0: theirs, 1: theirs } });
  await mine.writeAll("hello over a socketpair\n");
  await mine.shutdown("w");
  lines.push(`socketpair: ${await mine.readLine()}`);
  mine.close();
  lines.push(`socketpair: child ${JSON.stringify(await upper.wait())}`);
  return lines;
}

if (import.meta.main) {
  for (const line of await demo()) console.log(line);
}
