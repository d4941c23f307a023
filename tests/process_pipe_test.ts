import assert from "node:assert/strict";
import { pipe, socketpair } from "../process/mod.ts";
import { denoChild, randomBytes, rejectsWith, text } from "./_process_helpers.ts";

Deno.test("pipe carries bytes one way and ends when the writer closes", async () => {
  const [reader, writer] = await pipe();
  const data = randomBytes(1 << 20);
  const [, got] = await Promise.all([
    writer.writeAll(data).then(() => writer.close()),
    reader.readAll(),
  ]);
  assert.deepEqual(got, data);
  reader.close();
});

Deno.test("pipe's reader cannot write and its writer reads nothing", async () => {
  const [reader, writer] = await pipe();
  await rejectsWith(reader.writeAll("x"), "broken_pipe");
  assert.equal(await writer.read(), null);
  reader.close();
  writer.close();
});

Deno.test("socketpair is connected both ways with half-close", async () => {
  const [a, b] = await socketpair();
  await a.writeAll("ping");
  await a.shutdown("w");
  assert.equal(text(await b.readAll()), "ping");
  await b.writeAll("pong");
  assert.equal(text(await a.readExact(4)), "pong");
  a.close();
  b.close();
});

Deno.test("pipe and socketpair need --allow-net, which no scoped list grants", async () => {
  const code = `
    import { pipe, socketpair } from "NETKIT_PROCESS";
    for (const make of [pipe, socketpair]) {
      try {
        for (const end of await make()) end.close();
        console.log("ok");
      } catch (error) {
        console.log(error.code, /--allow-net/.test(error.message));
      }
    }
  `;
  const cases: [string[], string][] = [
    [[], "access_denied true\naccess_denied true\n"],
    [["--allow-net=127.0.0.1,localhost"], "access_denied true\naccess_denied true\n"],
    [["--allow-net"], "ok\nok\n"],
  ];
  for (const [flags, expected] of cases) {
    const result = await denoChild(code, { flags: ["--no-prompt", ...flags] });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, expected, `with ${flags.join(" ") || "no flags"}`);
  }
});
