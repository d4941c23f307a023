/**
 * nk's command line as a user meets it: help on every verb, bad input and
 * missing permissions as one documented line and exit code, the verbs
 * that need nothing but a name (probe, resolve, ping), with and without
 * --allow-ffi.
 */
import { deepStrictEqual as assertEquals, match, ok as assert } from "node:assert/strict";
import * as tcp from "../tcp/mod.ts";
import * as unix from "../unix/mod.ts";
import { nk } from "./_cli_helpers.ts";

/** No stack trace: no "    at " frame, no "error: Uncaught". */
function assertNoTrace(stderr: string): void {
  assert(!/^\s+at /m.test(stderr) && !/Uncaught/.test(stderr), `stack trace in: ${stderr}`);
}

Deno.test("nk --help, nk help VERB and nk VERB --help print the pages with examples", async () => {
  const overview = await nk(["--help"]);
  assertEquals(overview.code, 0);
  match(overview.stdout, /Exit codes:[\s\S]*130/);
  const verbs = ["connect", "listen", "relay", "probe", "resolve", "ping"];
  const pages = await Promise.all(verbs.map((verb) => nk([verb, "--help"])));
  for (const [i, page] of pages.entries()) {
    assertEquals(page.code, 0, verbs[i]);
    match(page.stdout, new RegExp(`^nk ${verbs[i]}`));
    match(page.stdout, /Exit codes:/);
  }
  const viaHelp = await nk(["help", "relay"]);
  assertEquals(viaHelp.stdout, pages[2].stdout);
  const version = await nk(["--version"]);
  match(version.stdout, /^nk \(netkit\) \d+\.\d+\.\d+/);
});

Deno.test("bad usage: one line naming the culprit, exit code 2, no stack trace", async () => {
  const cases: [string[], RegExp][] = [
    [[], /no verb given/],
    [["frob"], /unknown verb "frob"/],
    [["connect", "--bogus", "tcp:127.0.0.1:9"], /unknown flag "--bogus"/],
    [["connect", "-x", "tcp:127.0.0.1:9"], /unknown flag "-x"/],
    [["connect", "foo:bar"], /unknown address type "foo" in "foo:bar"/],
    [["connect", "nonsense"], /bad address "nonsense": expected TYPE:TARGET/],
    [["connect", "tcp:127.0.0.1:9,bogus=1"], /unknown option "bogus" in address .*takes timeout/],
    [["connect", "tcp:localhost"], /"tcp:localhost" has no port/],
    [["connect", "tcp:127.0.0.1:99999"], /bad address "tcp:127.0.0.1:99999"/],
    [["connect", "tcp:127.0.0.1:9,timeout=soon"], /option timeout of tcp: wants milliseconds/],
    [
      ["listen", "unix-listen:/tmp/x.sock,mode=abc"],
      /option mode of unix-listen: wants permission/,
    ],
    [["listen", "unix-listen:/tmp/x.sock,mkdir=maybe"], /option mkdir .* wants true or false/],
    [["connect", "tcp-listen:0"], /is a listening address: use nk listen/],
    [["connect", "exec:'unbalanced"], /unbalanced '/],
    [["connect"], /nk connect takes ADDR, got 0 operands/],
    [["relay", "-"], /nk relay takes A B, got 1 operand/],
    [["listen", "tcp-listen:0", "--fork"], /--fork needs --exec/],
    [["relay", "tcp:127.0.0.1:9", "-", "--keep"], /--keep needs a listening address/],
    [["connect", "tcp:127.0.0.1:9", "--keep"], /nk connect does not take --keep/],
    [["connect", "tcp:127.0.0.1:9", "--timeout", "x"], /--timeout wants milliseconds/],
    [["resolve", "localhost", "--family", "ipx"], /--family wants inet or inet6/],
    [["probe", "tcp:127.0.0.1:9"], /nk probe takes unix:PATH or abstract:NAME/],
    [["help", "frob"], /no verb "frob"/],
  ];
  const results = await Promise.all(cases.map(([args]) => nk(args)));
  for (const [i, result] of results.entries()) {
    const [args, pattern] = cases[i];
    assertEquals(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
    match(result.stderr, pattern, args.join(" "));
    assertEquals(result.stderr.trimEnd().split("\n").length, 1, `one line: ${result.stderr}`);
    match(result.stderr, /^nk: /);
    assertNoTrace(result.stderr);
  }
});

Deno.test("a missing permission is exit code 5 and names the --allow-* flag", async () => {
  const dir = await Deno.makeTempDir({ prefix: "netkit-cli-" });
  try {
    const [net, write] = await Promise.all([
      nk(["connect", "tcp:127.0.0.1:9"], { permissions: [] }),
      nk(["listen", `unix-listen:${dir}/p.sock`], { permissions: ["--allow-net"] }),
    ]);
    assertEquals(net.code, 5, net.stderr);
    match(net.stderr, /--allow-net/);
    assertEquals(write.code, 5, write.stderr);
    match(write.stderr, /--allow-(read|write)/);
    assertNoTrace(net.stderr + write.stderr);
    assertEquals([...Deno.readDirSync(dir)], [], "nothing left behind");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("refused and missing peers are exit code 3", async () => {
  const closed = tcp.listen({ hostname: "127.0.0.1", port: 0 });
  const port = closed.addr.port;
  await closed[Symbol.asyncDispose]();
  const dir = await Deno.makeTempDir({ prefix: "netkit-cli-" });
  try {
    const [refused, missing, noProgram] = await Promise.all([
      nk(["connect", `tcp:127.0.0.1:${port}`]),
      nk(["connect", `unix:${dir}/none.sock`]),
      nk(["connect", "exec:netkit-no-such-program"]),
    ]);
    assertEquals(refused.code, 3);
    match(refused.stderr, /connection refused/);
    assertEquals(missing.code, 3);
    match(missing.stderr, /not found/);
    assertEquals(noProgram.code, 3, noProgram.stderr);
    assertNoTrace(refused.stderr + missing.stderr + noProgram.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("nk ping: replies from 127.0.0.1 and ::1 as ping prints them; without --allow-ffi exit code 6, one line", async () => {
  const [v4, v6, noFfi, none] = await Promise.all([
    nk(["ping", "127.0.0.1", "--count", "2", "--interval", "1"]),
    nk(["ping", "::1", "--count", "1"]),
    nk(["ping", "127.0.0.1"], { permissions: ["--allow-net", "--allow-read"] }),
    nk(["ping", "127.0.0.1", "--count", "0"]),
  ]);
  assertEquals(v4.code, 0, v4.stderr);
  match(v4.stdout, /^PING 127\.0\.0\.1: 56 data bytes \((raw|ping) socket\)$/m);
  match(v4.stdout, /^64 bytes from 127\.0\.0\.1: icmp_seq=2 .*time=[\d.]+ ms$/m);
  match(v4.stdout, /^2 packets transmitted, 2 received, 0% packet loss$/m);
  assertEquals(v6.code, 0, v6.stderr);
  match(v6.stdout, /^64 bytes from ::1: icmp_seq=1 time=[\d.]+ ms$/m);
  assertEquals(noFfi.code, 6);
  match(noFfi.stderr, /--allow-ffi/);
  assertEquals(noFfi.stderr.trimEnd().split("\n").length, 1);
  assertNoTrace(noFfi.stderr);
  assertEquals(none.code, 2);
  match(none.stderr, /--count/);
});

Deno.test("nk resolve prints the resolver's addresses, then the canonical name", async () => {
  const [all, inet, bad] = await Promise.all([
    nk(["resolve", "localhost"]),
    nk(["resolve", "localhost", "--family", "inet", "-v"]),
    nk(["resolve", "no-such-host.invalid"]),
  ]);
  assertEquals(all.code, 0, all.stderr);
  const lines = all.stdout.trimEnd().split("\n");
  assert(lines.includes("127.0.0.1"), all.stdout);
  // Each address once (getaddrinfo answers once per socket type), the canonical name last.
  assertEquals(new Set(lines).size, lines.length, all.stdout);
  assertEquals(lines.at(-1), "canonical name: localhost");
  assertEquals(all.stderr, "");
  assertEquals(inet.stdout, "127.0.0.1 inet\ncanonical name: localhost\n");
  assertEquals(bad.code, 3);
  match(bad.stderr, /^nk: resolve no-such-host\.invalid: [^\n]+\n$/);
});

Deno.test("nk resolve without --allow-ffi prints the addresses and one note naming --allow-ffi", async () => {
  const result = await nk(["resolve", "localhost", "--family", "inet"], {
    permissions: ["--allow-net", "--allow-read", "--allow-env"],
  });
  assertEquals(result.code, 0, result.stderr);
  assertEquals(result.stdout, "127.0.0.1\n");
  match(result.stderr, /^nk: no canonical name \([^\n]*--allow-ffi[^\n]*\)\n$/);
});

Deno.test("nk probe tells live, stale, not-a-socket and missing, and removes nothing", async () => {
  const dir = await Deno.makeTempDir({ prefix: "netkit-cli-" });
  try {
    await using live = await unix.listen(`${dir}/live.sock`);
    // python3 leaves its socket file behind when it exits: a crashed server's stale path.
    await new Deno.Command("python3", {
      args: [
        "-c",
        "import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])",
        `${dir}/stale.sock`,
      ],
    }).output();
    await Deno.writeTextFile(`${dir}/file`, "x");
    await Deno.symlink(`${dir}/gone`, `${dir}/dangling`);
    const serving = live.accept().then((stream) => stream.close(), () => {});
    const results = await Promise.all(
      ["live.sock", "stale.sock", "file", "dangling", "none.sock"].map((name) =>
        nk(["probe", `unix:${dir}/${name}`])
      ),
    );
    await serving;
    assertEquals(results.map((r) => [r.code, r.stdout.split(" ")[0]]), [
      [0, "live"],
      [3, "stale"],
      [1, "not-a-socket"],
      [1, "not-a-socket"],
      [3, "missing"],
    ]);
    match(results[3].stdout, /dangling symbolic link/);
    assert((await Deno.lstat(`${dir}/stale.sock`)).isSocket, "probe removed the stale path");
    const abstract = await nk(["probe", `abstract:netkit-cli-none-${crypto.randomUUID()}`]);
    assertEquals([abstract.code, abstract.stdout.split(" ")[0]], [3, "missing"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
