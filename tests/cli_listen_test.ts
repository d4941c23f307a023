/**
 * `nk listen` against real clients (socat, curl, nc), with --exec, --keep
 * and the unix path's life: a stale path replaced, a live one refused,
 * Ctrl-C (SIGINT) removing what nk created.
 */
import { deepStrictEqual as assertEquals, match, ok as assert } from "node:assert/strict";
import * as unix from "../unix/mod.ts";
import { have, nk, Proc, runProgram } from "./_cli_helpers.ts";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "netkit-cli-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

Deno.test({
  name: "nk listen relays a socat client both ways, half-close included",
  ignore: !have("socat"),
  async fn() {
    await using server = Proc.nk(["listen", "tcp-listen:127.0.0.1:0", "-v"], { stdin: true });
    const port = await server.listeningPort();
    await server.write("from nk\n");
    await server.closeStdin();
    const client = await runProgram("socat", ["-", `TCP:127.0.0.1:${port}`], "from socat\n");
    assertEquals([client.code, client.stdout], [0, "from nk\n"]);
    const result = await server.done();
    assertEquals([result.code, result.stdout], [0, "from socat\n"]);
    match(result.stderr, /closed: 11 B ->, 8 B <-/);
  },
});

Deno.test({
  name: "nk listen on a unix socket answers curl --unix-socket, and the path goes",
  ignore: !have("curl"),
  async fn() {
    await withDir(async (dir) => {
      const path = `${dir}/run/http.sock`;
      await using server = Proc.nk(["listen", `unix-listen:${path},mode=0600,mkdir`, "-v"], {
        stdin: true,
      });
      await server.waitFor("stderr", /listening on unix-listen:/);
      assertEquals((await Deno.lstat(path)).mode! & 0o777, 0o600);
      await server.write("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nhello from nk\n");
      await server.closeStdin();
      const curl = await runProgram("curl", ["-sS", "--unix-socket", path, "http://nk/path"]);
      assertEquals([curl.code, curl.stdout], [0, "hello from nk\n"]);
      const result = await server.done();
      assertEquals(result.code, 0, result.stderr);
      match(result.stdout, /^GET \/path HTTP\/1\.1\r\n/);
      assert(!(await exists(path)), "nk left its socket path behind");
    });
  },
});

Deno.test({
  name: "nk listen --keep --exec cat serves nc clients one after another; SIGINT ends it",
  ignore: !have("nc"),
  async fn() {
    await withDir(async (dir) => {
      const path = `${dir}/echo.sock`;
      await using server = Proc.nk([
        "listen",
        `unix-listen:${path}`,
        "--keep",
        "--exec",
        "cat",
        "-v",
      ]);
      await server.waitFor("stderr", /listening on/);
      for (const word of ["first", "second"]) {
        const client = await runProgram("nc", ["-N", "-U", path], `${word}\n`);
        assertEquals([client.code, client.stdout], [0, `${word}\n`]);
      }
      server.kill("SIGINT");
      const result = await server.done();
      assertEquals(result.code, 130, result.stderr);
      // With --allow-ffi cat gets each peer's socket itself: nk sees no bytes.
      match(result.stderr, /\[2\] unix:\S+#2 <-> exec:cat\[\d+\] closed: socket handed over, /);
      assert(!(await exists(path)), "SIGINT left the socket path behind");
    });
  },
});

Deno.test("Ctrl-C during a relay closes the peer, stops the child and removes the path", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/busy.sock`;
    await using server = Proc.nk(["listen", `unix-listen:${path}`, "--exec", "sleep 30", "-v"]);
    await server.waitFor("stderr", /listening on/);
    await using client = await unix.connect(path);
    await server.waitFor("stderr", /\[1\] .* <-> exec:sleep 30/);
    server.kill("SIGINT");
    const result = await server.done();
    assertEquals(result.code, 130, result.stderr);
    match(result.stderr, /\(interrupted\) \(killed by SIGTERM\)/);
    assertEquals(await client.read(), null);
    assert(!(await exists(path)));
  });
});

Deno.test("nk listen replaces a stale path, refuses a live one (exit 1), and SIGTERM is 143", async () => {
  await withDir(async (dir) => {
    const path = `${dir}/app.sock`;
    // python3 leaves its socket file behind when it exits: a crashed server's stale path.
    await new Deno.Command("python3", {
      args: ["-c", "import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])", path],
    }).output();
    assertEquals((await nk(["probe", `unix:${path}`])).code, 3);
    // --keep: the second listener's probe of the path is a connection too.
    await using server = Proc.nk(["listen", `unix-listen:${path}`, "--keep", "-v"]);
    await server.waitFor("stderr", /listening on/);
    const second = await nk(["listen", `unix-listen:${path}`]);
    assertEquals(second.code, 1);
    match(second.stderr, /a server is listening on this path/);
    server.kill("SIGTERM");
    assertEquals((await server.done()).code, 143);
    assert(!(await exists(path)));
  });
});

Deno.test("nk listen abstract-listen: and udp-listen: with --exec", async () => {
  const name = `netkit-cli-${crypto.randomUUID()}`;
  await using abstract = Proc.nk([
    "listen",
    `abstract-listen:${name}`,
    "--exec",
    "tr a-z A-Z",
    "-v",
  ]);
  await abstract.waitFor("stderr", /listening on unix-listen:@/);
  const viaAbstract = await nk(["connect", `abstract:${name}`], { input: "abstract" });
  assertEquals(viaAbstract.stdout, "ABSTRACT");
  assertEquals((await abstract.done()).code, 0);

  await using datagrams = Proc.nk(["listen", "udp-listen:127.0.0.1:0", "--exec", "cat", "-v"]);
  const port = await datagrams.listeningPort();
  const viaUdp = await nk(["connect", `udp:127.0.0.1:${port}`, "--timeout", "1000"], {
    input: "datagram",
  });
  assertEquals(viaUdp.stdout, "datagram");
  datagrams.kill("SIGINT");
  await datagrams.done();
});
