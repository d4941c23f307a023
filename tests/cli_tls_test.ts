/**
 * `nk` over TLS: tls-listen: in front of a child, reached by openssl
 * s_client and by nk's own tls: (half-close over TLS), and a refused
 * certificate as one line and exit code 1.
 */
import { deepStrictEqual as assertEquals, match, ok as assert } from "node:assert/strict";
import { have, nk, Proc, runProgram } from "./_cli_helpers.ts";
import { makeCerts } from "./_tls_helpers.ts";

Deno.test({
  name: "nk listen tls-listen: --exec answers openssl s_client and nk connect tls:",
  ignore: !have("openssl"),
  async fn() {
    const certs = await makeCerts();
    try {
      const listen = `tls-listen:127.0.0.1:0,cert=${certs.leaf.certFile},key=${certs.leaf.keyFile}`;
      await using server = Proc.nk(["listen", listen, "--keep", "--exec", "tr a-z A-Z", "-v"]);
      const port = await server.listeningPort();

      const openssl = await runProgram("openssl", [
        "s_client",
        "-connect",
        `127.0.0.1:${port}`,
        "-servername",
        "localhost",
        "-CAfile",
        certs.caFile,
        "-verify_return_error",
        "-quiet",
        "-no_ign_eof",
      ], "from openssl\n");
      // s_client may hang up before the reply: what matters is a verified handshake and no error.
      assertEquals(openssl.code, 0, openssl.stderr);
      match(openssl.stderr, /verify return:1/);

      const ours = await nk([
        "connect",
        `tls:localhost:${port},caFile=${certs.caFile},serverName=localhost`,
        "-v",
      ], { input: "half-closed over tls" });
      assertEquals(ours.code, 0, ours.stderr);
      assertEquals(ours.stdout, "HALF-CLOSED OVER TLS");
      match(ours.stderr, /stdio <-> tls:127\.0\.0\.1:\d+ closed: 20 B ->, 20 B <-/);

      const untrusted = await nk(["connect", `tls:localhost:${port}`]);
      assertEquals(untrusted.code, 1, untrusted.stderr);
      match(untrusted.stderr, /unknown issuer/);
      assertEquals(untrusted.stderr.trimEnd().split("\n").length, 1, untrusted.stderr);

      server.kill("SIGINT");
      const result = await server.done();
      assertEquals(result.code, 130, result.stderr);
      assert((result.stderr.match(/ closed: /g)?.length ?? 0) >= 2, result.stderr);
    } finally {
      await certs.remove();
    }
  },
});
