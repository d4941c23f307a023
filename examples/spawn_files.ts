/**
 * XPIO's `spawn(args, env, files, attrs)` with a file map, on netkit. XPIO's
 * example is `{ [0] = 0, [1] = 2, [2] = writePipe }`: the child's stdout is
 * the parent's descriptor 2, its stderr a pipe that is closed in the parent.
 * Here the child's stdout is one of our descriptors by number (a log file
 * opened with `node:fs`, so the result can be shown), its stderr the write
 * end of a `pipe()`, and it gets an environment and a working directory.
 *
 * Run: `deno run -A examples/spawn_files.ts`
 *
 * @module
 */

import { closeSync, openSync } from "node:fs";
import { pipe, spawn } from "../process/mod.ts";

/** Spawns one child with a file map; returns where each of its outputs went. */
export async function demo(): Promise<string[]> {
  const lines: string[] = [];
  const dir = await Deno.makeTempDir({ prefix: "netkit-spawn-" });
  try {
    const log = `${dir}/child.log`;
    const fd = openSync(log, "w"); // a parent descriptor number
    const [reader, writer] = await pipe();
    try {
      await using child = await spawn(
        ["sh", "-c", 'echo "hello from $GREETING; cwd holds $(ls)"; echo "stderr line" >&2'],
        {
          env: { GREETING: "xpio" },
          cwd: dir,
          files: { 0: "null", 1: fd, 2: writer }, // the writer is handed over and closed here
        },
      );
      lines.push(`writer closed in the parent after spawn: ${writer.closed}`);
      lines.push(`child's fd 2 (the pipe): ${await reader.readLine({ timeout: 5000 })}`);
      lines.push(`child status: ${JSON.stringify(await child.wait())}`);
    } finally {
      reader.close();
      closeSync(fd);
    }
    const written = (await Deno.readTextFile(log)).trim();
    lines.push(`child's fd 1 (our fd ${fd}, child.log): ${written}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  return lines;
}

if (import.meta.main) {
  for (const line of await demo()) console.log(line);
}
