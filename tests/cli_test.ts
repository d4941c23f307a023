/**
 * The `nk` command, run as a user runs it: `deno run -A cli/mod.ts …` as a
 * child with piped stdio, against real peers (python3, socat, curl, nc,
 * sh) on loopback and in temporary directories.
 */

import assert from "node:assert/strict";
import * as unix from "../unix/mod.ts";
import { halfCloseServer as pythonServer, nk, Proc, runProgram } from "./_cli_helpers.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A fresh temporary directory, removed by the returned disposer. */
async function tempDir(): Promise<{ dir: string } & AsyncDisposable> {
  const dir = await Deno.makeTempDir({ prefix: "netkit-cli-" });
  return { dir, [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }) };
}

/** An in-process TCP server: reads each peer to end of stream, then answers with what came, upper-cased. */
function halfCloseServer(): { port: number; served: Promise<string[]> } & AsyncDisposable {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const seen: string[] = [];
  const served = (async () => {
    const conn = await listener.accept();
    const got = await readAll(conn);
    seen.push(decoder.decode(got));
    const reply = encoder.encode(`after FIN: ${decoder.decode(got).toUpperCase()}`);
    for (let at = 0; at < reply.length;) at += await conn.write(reply.subarray(at));
    conn.close();
    return seen;
  })();
  return {
    port: listener.addr.port,
    served,
    [Symbol.asyncDispose]: async () => {
      await served.catch(() => {});
      listener.close();
    },
  };
}

/** Leaves a socket file nobody listens on at `path`, as a crashed server does. */
async function staleSocket(path: string): Promise<void> {
  const code =
    "import socket, sys\ns = socket.socket(socket.AF_UNIX)\ns.bind(sys.argv[1])\ns.close()";
  assert.deepEqual((await runProgram("python3", ["-c", code, path])).code, 0);
}

/** Sends `data` on `conn`, then a FIN (closeWrite), and reads the reply to its end. */
async function exchange(conn: Deno.TcpConn, data: Uint8Array): Promise<Uint8Array> {
  const sending = (async () => {
    for (let at = 0; at < data.length;) at += await conn.write(data.subarray(at));
    await conn.closeWrite();
  })();
  const got = await readAll(conn);
  await sending;
  conn.close();
  return got;
}

/** Reads `conn` to its end of stream. */
async function readAll(conn: Deno.Conn): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  const buffer = new Uint8Array(65536);
  for (;;) {
    const n = await conn.read(buffer);
    if (n === null) break;
    chunks.push(buffer.slice(0, n));
  }
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/** One line on stderr, starting with "nk: ", and no stack trace. */
function assertOneLine(stderr: string): void {
  assert.match(stderr, /^nk: [^\n]+\n$/);
  assert.doesNotMatch(stderr, /\n\s+at /);
}

Deno.test("cli: --help, help VERB and --version", async () => {
  const overview = await nk(["--help"]);
  assert.deepEqual(overview.code, 0);
  assert.match(overview.stdout, /Exit codes:/);
  for (const verb of ["connect", "listen", "relay", "probe", "resolve", "ping"]) {
    const page = await nk([verb, "--help"]);
    assert.deepEqual(page.code, 0, verb);
    assert.match(page.stdout, new RegExp(`^nk ${verb} `), verb);
  }
  const version = await nk(["--version"]);
  assert.deepEqual(version.code, 0);
  assert.match(version.stdout, /^nk \(netkit\) \d+\.\d+\.\d+\n$/);
});

Deno.test("cli: connect to a python3 server passes stdin's end as a FIN and reads the reply", async () => {
  const { proc: server, port } = await pythonServer();
  await using _server = server;
  const result = await nk(["connect", `tcp:127.0.0.1:${port}`, "-v"], { input: "hello\nworld\n" });
  assert.deepEqual((await server.done()).code, 0);
  assert.deepEqual(result.code, 0, result.stderr);
  assert.deepEqual(result.stdout, "got 12 bytes: HELLO\nWORLD\n");
  assert.match(result.stderr, /closed: 12 B ->, 26 B <-/);
});

Deno.test("cli: connect to a socat server on a unix socket (exec: tr behind it)", async () => {
  await using tmp = await tempDir();
  const path = `${tmp.dir}/socat.sock`;
  await using server = new Proc("socat", ["-d", "-d", `UNIX-LISTEN:${path}`, "EXEC:tr a-z A-Z"]);
  await server.waitFor("stderr", /listening on/);
  const result = await nk(["connect", `unix:${path}`], { input: "through socat\n" });
  assert.deepEqual(result.code, 0, result.stderr);
  assert.deepEqual(result.stdout, "THROUGH SOCAT\n");
  assert.deepEqual((await server.done()).code, 0);
});

Deno.test("cli: listen takes a socat client: both directions, both exit 0", async () => {
  await using listener = Proc.nk(["listen", "tcp-listen:127.0.0.1:0", "-v"], { stdin: true });
  await listener.write("from nk\n");
  await listener.closeStdin();
  const port = await listener.listeningPort();
  const peer = await runProgram("socat", ["-", `TCP:127.0.0.1:${port}`], "from socat\n");
  const result = await listener.done();
  assert.deepEqual(peer.code, 0, peer.stderr);
  assert.deepEqual(peer.stdout, "from nk\n");
  assert.deepEqual(result.code, 0, result.stderr);
  assert.deepEqual(result.stdout, "from socat\n");
});

Deno.test("cli: listen --keep --exec sh -c serves curl one request after another", async () => {
  await using tmp = await tempDir();
  const script = `${tmp.dir}/http.sh`;
  await Deno.writeTextFile(
    script,
    `read line\nprintf 'HTTP/1.0 200 OK\\r\\nContent-Length: 9\\r\\n\\r\\n'\n` +
      `printf '%s\\n' "$line" | cut -c1-8\n`,
  );
  await using listener = Proc.nk([
    "listen",
    "tcp-listen:127.0.0.1:0",
    "--keep",
    "-v",
    "--exec",
    `sh ${script}`,
  ]);
  const port = await listener.listeningPort();
  for (const path of ["/one", "/two"]) {
    const got = await runProgram("curl", [
      "-sS",
      "--max-time",
      "20",
      `http://127.0.0.1:${port}${path}`,
    ]);
    assert.deepEqual(got.code, 0, got.stderr);
    assert.deepEqual(got.stdout, `GET ${path}\n`);
  }
  listener.kill("SIGTERM");
  const result = await listener.done();
  assert.deepEqual(result.code, 143, result.stderr);
  assert.match(result.stderr, /\[2\] .* closed: /);
});

Deno.test("cli: listen --exec cat echoes to nc, which half-closes with -N", async () => {
  await using listener = Proc.nk(["listen", "tcp-listen:127.0.0.1:0", "-v", "--exec", "cat"]);
  const port = await listener.listeningPort();
  const peer = await runProgram("nc", ["-N", "127.0.0.1", String(port)], "echo through cat\n");
  assert.deepEqual(peer.code, 0, peer.stderr);
  assert.deepEqual(peer.stdout, "echo through cat\n");
  const result = await listener.done();
  assert.deepEqual(result.code, 0, result.stderr);
  assert.match(result.stderr, /\(exit 0\)/);
});

Deno.test("cli: relay tcp-listen: -> unix: in front of an HTTP server on a unix socket, queried by curl", async () => {
  await using tmp = await tempDir();
  const path = `${tmp.dir}/web.sock`;
  const server = await unix.serve(path, (request) => {
    return new Response(`unix says ${new URL(request.url).pathname}\n`);
  });
  try {
    await using relay = Proc.nk([
      "relay",
      "--fork",
      "-v",
      "tcp-listen:127.0.0.1:0",
      `unix:${path}`,
    ]);
    const port = await relay.listeningPort();
    const answers = await Promise.all(
      ["/a", "/b", "/c"].map((p) =>
        runProgram("curl", ["-sS", "--max-time", "20", `http://127.0.0.1:${port}${p}`])
      ),
    );
    assert.deepEqual(answers.map((a) => a.stdout), [
      "unix says /a\n",
      "unix says /b\n",
      "unix says /c\n",
    ]);
    relay.kill("SIGINT");
    const result = await relay.done();
    assert.deepEqual(result.code, 130, result.stderr);
  } finally {
    await server.shutdown();
  }
});

Deno.test("cli: exec: with cat and with sh -c", async () => {
  const cat = await nk(["connect", "exec:cat"], { input: "cat me\n" });
  assert.deepEqual(cat.code, 0, cat.stderr);
  assert.deepEqual(cat.stdout, "cat me\n");
  const sh = await nk(["relay", "-", `exec:sh -c 'tr a-z A-Z; echo "done, $0"' nk`], {
    input: "shout\n",
  });
  assert.deepEqual(sh.code, 0, sh.stderr);
  assert.deepEqual(sh.stdout, "SHOUT\ndone, nk\n");
  const failing = await nk(["connect", "exec:sh -c 'exit 3'", "-v"], { input: "" });
  assert.deepEqual(failing.code, 0, failing.stderr);
  assert.match(failing.stderr, /\(exit 3\)/);
  const missing = await nk(["connect", "exec:/nonexistent/program"], { input: "" });
  assert.deepEqual(missing.code, 3, missing.stderr);
  assertOneLine(missing.stderr);
});

Deno.test("cli: relay passes the client's FIN to the far end, and the far end's reply comes back", async () => {
  await using server = halfCloseServer();
  await using relay = Proc.nk([
    "relay",
    "-v",
    "tcp-listen:127.0.0.1:0",
    `tcp:127.0.0.1:${server.port}`,
  ]);
  const port = await relay.listeningPort();
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const reply = decoder.decode(await exchange(conn, encoder.encode("half closed")));
  assert.deepEqual(reply, "after FIN: HALF CLOSED");
  assert.deepEqual(await server.served, ["half closed"]);
  const result = await relay.done();
  assert.deepEqual(result.code, 0, result.stderr);
  assert.match(result.stderr, /closed: 11 B ->, 22 B <-/);
});

Deno.test("cli: probe tells live, stale, not-a-socket and missing, removing nothing", async () => {
  await using tmp = await tempDir();
  const live = `${tmp.dir}/live.sock`;
  const stale = `${tmp.dir}/stale.sock`;
  const file = `${tmp.dir}/file`;
  const listener = await unix.listen(live);
  try {
    await staleSocket(stale);
    await Deno.writeTextFile(file, "not a socket");
    const cases: [string, number, string][] = [
      [live, 0, "live"],
      [stale, 3, "stale"],
      [file, 1, "not-a-socket"],
      [`${tmp.dir}/missing.sock`, 3, "missing"],
    ];
    for (const [path, code, state] of cases) {
      const result = await nk(["probe", `unix:${path}`]);
      assert.deepEqual(result.code, code, `${state}: ${result.stderr}`);
      assert.ok(result.stdout.startsWith(`${state} ${path} (`), result.stdout);
    }
    assert.ok((await Deno.lstat(stale)).isSocket);
    assert.ok((await Deno.lstat(live)).isSocket);
    assert.deepEqual(await Deno.readTextFile(file), "not a socket");
  } finally {
    await listener.close();
  }
});

Deno.test("cli: bad usage is one line naming the mistake, exit code 2", async () => {
  const cases: [string[], RegExp][] = [
    [[], /no verb given/],
    [["frobnicate"], /unknown verb "frobnicate"/],
    [["connect"], /nk connect takes ADDR, got 0 operands/],
    [["connect", "tcp:localhost"], /has no port/],
    [["connect", "tcp:127.0.0.1:99999"], /tcp:127\.0\.0\.1:99999/],
    [["connect", "bogus:1"], /unknown address type "bogus"/],
    [["connect", "nocolon"], /bad address "nocolon": expected TYPE:TARGET/],
    [["connect", "tcp:127.0.0.1:80,frob=1"], /unknown option "frob" in address/],
    [["connect", "tcp:127.0.0.1:80,timeout=soon"], /option timeout of tcp: wants milliseconds/],
    [
      ["listen", "unix-listen:/tmp/x.sock,mode=999"],
      /option mode of unix-listen: wants permission bits/,
    ],
    [["connect", "exec:sh -c 'unbalanced"], /unbalanced ' in address/],
    [["connect", "tcp-listen:9000"], /is a listening address: use nk listen/],
    [["connect", "--frob", "tcp:127.0.0.1:80"], /unknown flag "--frob"/],
    [["connect", "-x", "tcp:127.0.0.1:80"], /unknown flag "-x"/],
    [["connect", "--timeout", "later", "tcp:127.0.0.1:80"], /flag --timeout wants milliseconds/],
    [["probe", "--keep", "unix:/tmp/x"], /nk probe does not take --keep/],
    [["listen", "--fork", "tcp-listen:0"], /--fork needs --exec CMD/],
    [["listen", "--keep", "--fork", "tcp-listen:0"], /--keep and --fork exclude each other/],
    [["probe", "tcp:127.0.0.1:80"], /nk probe takes unix:PATH/],
    [["help", "frob"], /no verb "frob"/],
  ];
  for (const [args, pattern] of cases) {
    const result = await nk(args);
    assert.deepEqual(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
    assertOneLine(result.stderr);
    assert.match(result.stderr, pattern, args.join(" "));
    assert.deepEqual(result.stdout, "");
  }
});

Deno.test("cli: refused, missing and unsupported exit 3, 3 and 6", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close(); // nobody listens there now
  const refused = await nk(["connect", `tcp:127.0.0.1:${port}`]);
  assert.deepEqual(refused.code, 3, refused.stderr);
  assertOneLine(refused.stderr);
  assert.match(refused.stderr, /connection refused/);
  await using tmp = await tempDir();
  const missing = await nk(["connect", `unix:${tmp.dir}/none.sock`]);
  assert.deepEqual(missing.code, 3, missing.stderr);
  assertOneLine(missing.stderr);
});

Deno.test("cli: a missing permission names the --allow-* flag, exit code 5", async () => {
  const net = await nk(["connect", "tcp:127.0.0.1:9"], { input: "", permissions: [] });
  assert.deepEqual(net.code, 5, net.stderr);
  assertOneLine(net.stderr);
  assert.match(net.stderr, /--allow-net/);
  const read = await nk(["probe", "unix:/tmp/netkit-cli-no-such.sock"], { permissions: [] });
  assert.deepEqual(read.code, 5, read.stderr);
  assertOneLine(read.stderr);
  assert.match(read.stderr, /--allow-read/);
  const run = await nk(["connect", "exec:cat"], { input: "", permissions: ["--allow-net"] });
  assert.deepEqual(run.code, 5, run.stderr);
  assertOneLine(run.stderr);
  assert.match(run.stderr, /--allow-run/);
});

Deno.test("cli: SIGINT to listen unix-listen:PATH closes the socket and removes the path", async () => {
  await using tmp = await tempDir();
  const path = `${tmp.dir}/sigint.sock`;
  for (const extra of [[], ["--keep", "--exec", "cat"]]) {
    await using listener = Proc.nk(["listen", `unix-listen:${path},mode=0600`, "-v", ...extra]);
    await listener.waitFor("stderr", /listening on unix-listen:/);
    const info = await Deno.lstat(path);
    assert.ok(info.isSocket);
    assert.deepEqual(info.mode! & 0o777, 0o600);
    listener.kill("SIGINT");
    const result = await listener.done();
    assert.deepEqual(result.code, 130, result.stderr);
    assert.deepEqual([...Deno.readDirSync(tmp.dir)], [], `left behind after ${extra.join(" ")}`);
  }
});

Deno.test("cli: a live unix path is refused, a stale one replaced", async () => {
  await using tmp = await tempDir();
  const path = `${tmp.dir}/taken.sock`;
  const holder = await unix.listen(path);
  try {
    const refused = await nk(["listen", `unix-listen:${path}`]);
    assert.deepEqual(refused.code, 1, refused.stderr);
    assertOneLine(refused.stderr);
    assert.match(refused.stderr, /a server is listening on this path/);
  } finally {
    await holder.close();
  }
  await staleSocket(path);
  await using listener = Proc.nk(["listen", `unix-listen:${path}`, "-v", "--exec", "cat"]);
  await listener.waitFor("stderr", /listening on/);
  const echoed = await nk(["connect", `unix:${path}`], { input: "replaced\n" });
  assert.deepEqual(echoed.stdout, "replaced\n");
  assert.deepEqual((await listener.done()).code, 0);
  assert.deepEqual([...Deno.readDirSync(tmp.dir)], []);
});

Deno.test("cli: 100 concurrent connections through relay --fork, every byte verified", async () => {
  await using tmp = await tempDir();
  const path = `${tmp.dir}/echo.sock`;
  const echo = Deno.listen({ transport: "unix", path });
  const serving = (async () => {
    const conns: Promise<void>[] = [];
    for await (const conn of echo) {
      conns.push(conn.readable.pipeTo(conn.writable).catch(() => {}));
    }
    await Promise.all(conns);
  })();
  await using relay = Proc.nk([
    "relay",
    "--fork",
    "-v",
    "tcp-listen:127.0.0.1:0,backlog=128",
    `unix:${path}`,
  ]);
  try {
    const port = await relay.listeningPort();
    const SIZE = 48 * 1024;
    await Promise.all(Array.from({ length: 100 }, async (_, i) => {
      const data = new Uint8Array(SIZE);
      crypto.getRandomValues(data);
      const conn = await Deno.connect({ hostname: "127.0.0.1", port });
      const back = await exchange(conn, data);
      assert.deepEqual(back.length, SIZE, `connection ${i}`);
      assert.ok(back.every((byte, at) => byte === data[at]), `connection ${i} bytes`);
    }));
  } finally {
    relay.kill("SIGTERM");
    await relay.done();
    echo.close();
    await serving;
  }
  const result = await relay.done();
  assert.deepEqual(result.code, 143, result.stderr);
  assert.deepEqual(result.stderr.match(/ closed: 49152 B ->, 49152 B <-, /g)?.length, 100);
});

Deno.test("cli: udp connect to an echo peer ends a moment after the reply", async () => {
  const socket = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
  const port = (socket.addr as Deno.NetAddr).port;
  const echoing = (async () => {
    const [data, from] = await socket.receive();
    await socket.send(data, from);
  })();
  const result = await nk(["connect", `udp:127.0.0.1:${port}`], { input: "datagram\n" });
  await echoing;
  socket.close();
  assert.deepEqual(result.code, 0, result.stderr);
  assert.deepEqual(result.stdout, "datagram\n");
});

Deno.test("cli: connect tls: with cafile= to openssl s_server", async () => {
  await using tmp = await tempDir();
  const made = await runProgram("openssl", [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-days",
    "2",
    "-subj",
    "/CN=localhost",
    "-addext",
    "subjectAltName=DNS:localhost,IP:127.0.0.1",
    "-keyout",
    `${tmp.dir}/key.pem`,
    "-out",
    `${tmp.dir}/cert.pem`,
  ]);
  assert.deepEqual(made.code, 0, made.stderr);
  const free = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = free.addr.port;
  free.close();
  await using server = new Proc("openssl", [
    "s_server",
    "-accept",
    `127.0.0.1:${port}`,
    "-naccept",
    "1",
    "-rev",
    "-cert",
    `${tmp.dir}/cert.pem`,
    "-key",
    `${tmp.dir}/key.pem`,
  ]);
  await server.waitFor("stdout", /ACCEPT/);
  const result = await nk(
    ["connect", `tls:127.0.0.1:${port},cafile=${tmp.dir}/cert.pem`],
    { input: "hello\n" },
  );
  assert.deepEqual(result.code, 0, result.stderr);
  assert.deepEqual(result.stdout, "olleh\n");
  await server.done();
  const noKey = await nk(["listen", `tls-listen:127.0.0.1:0,cert=${tmp.dir}/cert.pem`]);
  assert.deepEqual(noKey.code, 2, noKey.stderr);
  assertOneLine(noKey.stderr);
  const noFile = await nk(["connect", `tls:127.0.0.1:${port},cafile=${tmp.dir}/none.pem`]);
  assert.deepEqual(noFile.code, 3, noFile.stderr);
  assertOneLine(noFile.stderr);
});

Deno.test("cli: resolve localhost", async () => {
  const result = await nk(["resolve", "localhost", "--family", "inet"]);
  assert.deepEqual(result.code, 0, result.stderr);
  assert.match(result.stdout, /^127\.0\.0\.1\n/);
});
