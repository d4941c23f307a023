import assert from "node:assert/strict";
import { fdopen } from "../process/mod.ts";
import { denoChild, rejectsWith } from "./_process_helpers.ts";

Deno.test("fdopen(1) and fdopen(2) write to our stdout and stderr", async () => {
  const result = await denoChild(`
    import { fdopen } from "NETKIT_PROCESS";
    const out = fdopen(1);
    await out.writeAll("to stdout\\n");
    out.close();
    const err = fdopen(2);
    await err.writeAll("to stderr\\n");
    err.close();
    console.log("console still works");
  `);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stdout, "to stdout\nconsole still works\n");
  assert.equal(result.stderr, "to stderr\n");
});

Deno.test("fdopen(0) reads our stdin to its end", async () => {
  const result = await denoChild(
    `
    import { fdopen } from "NETKIT_PROCESS";
    const input = fdopen(0);
    console.log(new TextDecoder().decode(await input.readAll()).toUpperCase());
    input.close();
  `,
    { stdin: "from the parent" },
  );
  assert.equal(result.stdout, "FROM THE PARENT\n");
});

Deno.test("fdopen streams go one way only", async () => {
  const out = fdopen(1);
  await rejectsWith(out.read(), "not_supported");
  out.close();
  await rejectsWith(() => fdopen(-1 as 0), "invalid_argument", "n");
});
