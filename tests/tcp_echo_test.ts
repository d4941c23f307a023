import assert from "node:assert/strict";
import { demo } from "../examples/tcp_echo.ts";

Deno.test("the tcp_echo example echoes lines over IPv4 and IPv6 and closes everything", async () => {
  const lines = await demo();
  assert.equal(lines.length, 4);
  assert.match(lines[0], /^tcp IPv4 127\.0\.0\.1:\d+ -> echo: hello$/);
  assert.match(lines[1], /^tcp IPv4 127\.0\.0\.1:\d+ -> echo: from IPv4$/);
  assert.match(lines[2], /^tcp IPv6 \[::1\]:\d+ -> echo: hello$/);
  assert.match(lines[3], /^tcp IPv6 \[::1\]:\d+ -> echo: from IPv6$/);
});
