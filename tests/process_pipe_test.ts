import assert from "node:assert/strict";
import { pipe, socketpair } from "../process/mod.ts";
import { randomBytes, rejectsWith, text } from "./_process_helpers.ts";

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
