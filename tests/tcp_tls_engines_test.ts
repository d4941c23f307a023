/**
 * netkit's TLS client has two engines (docs/tls.md, "How it is built"):
 * Deno's own TLS when it can keep every promise of the options, and
 * `node:tls` otherwise (`caCerts`, a client certificate, or a deadline
 * without `--allow-ffi`). The other TLS test files pass `caCerts`, so they
 * test the `node:tls` engine; here they run again with the test CA among
 * the runtime's roots instead (`NETKIT_TLS_TRUST=roots`, see
 * `_tls_helpers.ts`), each in a process of its own (Deno reads `DENO_CERT`
 * once per process), which puts every client on Deno's engine. A child
 * without `--allow-ffi` checks the choice there: Deno's engine without a
 * deadline, `node:tls` with one, whose socket still closes at once when it
 * gives up.
 */
import assert from "node:assert/strict";
import { denoChild } from "./_process_helpers.ts";
import { makeCerts } from "./_tls_helpers.ts";

const SUITES = ["tcp_tls_test.ts", "reliability_tls_test.ts", "stress/tls_echo_test.ts"];

for (const suite of SUITES) {
  Deno.test(`tls engines: ${suite} with the CA in the runtime's roots (Deno's own client TLS)`, async () => {
    const { success, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["test", "-A", "--no-check", new URL(suite, import.meta.url).pathname],
      env: { NETKIT_TLS_TRUST: "roots", NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
    assert.ok(success, text);
    assert.match(text, /\bok \| \d+ passed/);
  });
}

const CHILD = `
import { connectTls, listen, listenTls } from ${
  JSON.stringify(import.meta.resolve("../tcp/mod.ts"))
};
const [cert, key] = [Deno.args[0], Deno.args[1]];
const report = {};
await using listener = listenTls({ hostname: "127.0.0.1", port: 0, cert, key });
const accepted = listener.accept();
await using client = await connectTls("localhost", listener.addr.port);
await using server = await accepted;
await client.writeAll("no deadline\\n");
report.echo = await server.readLine({ timeout: 5000 });
await using silent = listen({ hostname: "127.0.0.1", port: 0 });
const peer = silent.accept();
try {
  await connectTls("localhost", silent.addr.port, { timeout: 100 });
} catch (error) {
  report.timeout = error.code;
}
await using stranger = await peer;
const hello = await stranger.readAll({ timeout: 5000 }).catch((error) => error.code);
report.peerSawEnd = hello instanceof Uint8Array && hello.length > 0;
console.log(JSON.stringify(report));
`;

Deno.test("tls engines: without --allow-ffi, Deno's engine without a deadline, node:tls with one (its socket closes when it gives up)", async () => {
  const certs = await makeCerts();
  try {
    const { code, stdout, stderr } = await denoChild(CHILD, {
      flags: ["--no-lock", "--allow-net=127.0.0.1,localhost", "--allow-read", "--allow-env"],
      args: [certs.leaf.cert, certs.leaf.key],
      env: { DENO_CERT: certs.caFile, NO_COLOR: "1" },
    });
    assert.equal(code, 0, stderr);
    assert.deepEqual(JSON.parse(stdout), {
      echo: "no deadline",
      timeout: "timeout",
      peerSawEnd: true,
    });
  } finally {
    await certs.remove();
  }
});
