/** The TLS samples run and print what their clients saw. */
import assert from "node:assert/strict";
import { demo as tlsEcho } from "../examples/tls_echo.ts";
import { demo as starttls } from "../examples/starttls.ts";

Deno.test("examples/tls_echo.ts echoes over TLS and ends with half-close", async () => {
  assert.deepEqual(await tlsEcho(), [
    "tls localhost -> echo: hello",
    "tls localhost -> echo: over TLS",
    "tls end of stream after half-close: null",
  ]);
});

Deno.test("examples/starttls.ts greets in plain text, upgrades and talks encrypted", async () => {
  const lines = await starttls();
  assert.equal(lines[0], "plain <- 220 netkit.example ESMTP ready");
  assert.equal(lines[1], "plain <- 220 go ahead");
  assert.equal(lines[2], "plain stream after the upgrade: closed = true");
  assert.match(
    lines[3],
    /^tls <- 250 got MAIL FROM:<demo@netkit.example> \(encrypted, TLSv1\.[23]\)$/,
  );
});
