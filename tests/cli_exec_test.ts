/**
 * `exec:` with a socket peer: with --allow-ffi the child gets the peer's
 * socket itself at fds 0 and 1 (python3 asks it for its addresses and sets
 * an option on it); without --allow-ffi, or with a flag that must see the
 * bytes, nk pumps the child's pipes as before.
 */
import { deepStrictEqual as assertEquals, match } from "node:assert/strict";
import * as tcp from "../tcp/mod.ts";
import { nk, Proc } from "./_cli_helpers.ts";

/** Prints the peer's address of the socket at fd 0, and SO_KEEPALIVE after setting it. */
const PEER_OF_FD0 = "import socket; s = socket.socket(fileno=0); " +
  "s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1); h, p = s.getpeername()[:2]; " +
  "print(h, p, s.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE), flush=True)";

/** Says whether fd 0 is a socket, then echoes its input upper-cased. */
const PIPE_OR_SOCKET = "import os, stat, sys; " +
  "kind = 'socket' if stat.S_ISSOCK(os.fstat(0).st_mode) else 'pipe'; " +
  "data = sys.stdin.read(); print(kind, data.upper(), end='', flush=True)";

/** Without --allow-ffi: what exec: needs, and nothing more. */
const NO_FFI = ["--allow-net", "--allow-run", "--allow-read", "--allow-env"];

Deno.test("nk listen --exec: the child's socket at fd 0 is the client's, getpeername is its local address", async () => {
  await using server = Proc.nk([
    "listen",
    "tcp-listen:127.0.0.1:0",
    "-v",
    "--exec",
    `python3 -c "${PEER_OF_FD0}"`,
  ]);
  const port = await server.listeningPort();
  await using client = await tcp.connect("127.0.0.1", port);
  const { hostname, port: local } = client.localAddr;
  const said = new TextDecoder().decode(await client.readAll());
  assertEquals(said, `${hostname} ${local} 1\n`);
  const result = await server.done();
  assertEquals(result.code, 0, result.stderr);
  match(result.stderr, /\[1\] tcp:127\.0\.0\.1:\d+ <-> exec:python3 .*\(socket handed over\)\n/);
  match(result.stderr, /closed: socket handed over, [\d.]+ s \(exit 0\)\n/);
});

Deno.test("nk relay tcp-listen: exec: hands the accepted socket over", async () => {
  await using relay = Proc.nk([
    "relay",
    "-v",
    "tcp-listen:127.0.0.1:0",
    `exec:python3 -c "${PEER_OF_FD0}"`,
  ]);
  const port = await relay.listeningPort();
  await using client = await tcp.connect("127.0.0.1", port);
  const said = new TextDecoder().decode(await client.readAll());
  assertEquals(said, `${client.localAddr.hostname} ${client.localAddr.port} 1\n`);
  assertEquals((await relay.done()).code, 0);
});

Deno.test("nk relay exec: tcp: connects first, then hands the connected socket to the child", async () => {
  await using server = tcp.listen({ hostname: "127.0.0.1", port: 0 });
  const answer = (async () => {
    await using peer = await server.accept();
    return [peer.remoteAddr, new TextDecoder().decode(await peer.readAll())] as const;
  })();
  // The child prints its own address: the server's peer is that socket.
  const own = PEER_OF_FD0.replace("s.getpeername()", "s.getsockname()");
  const result = await nk([
    "relay",
    "-v",
    `exec:python3 -c "${own}"`,
    `tcp:127.0.0.1:${server.addr.port}`,
  ]);
  assertEquals(result.code, 0, result.stderr);
  const [remote, said] = await answer;
  assertEquals(said, `${remote.hostname} ${remote.port} 1\n`);
  match(result.stderr, /\[1\] exec:python3 .* <-> tcp:127\.0\.0\.1:\d+ \(socket handed over\)/);
  // A program that is not there is still exit code 3, one line.
  const missing = await nk([
    "relay",
    "exec:/nonexistent/program",
    `tcp:127.0.0.1:${server.addr.port}`,
  ]);
  assertEquals(missing.code, 3, missing.stderr);
  match(missing.stderr, /^nk: [^\n]+\n$/);
  await (await server.accept()).close();
});

Deno.test("exec: without --allow-ffi pumps the child's pipes, bytes counted both ways", async () => {
  await using server = Proc.nk(
    ["listen", "tcp-listen:127.0.0.1:0", "-v", "--exec", `python3 -c "${PIPE_OR_SOCKET}"`],
    { permissions: NO_FFI },
  );
  const port = await server.listeningPort();
  await using client = await tcp.connect("127.0.0.1", port);
  await client.writeAll("piped");
  await client.shutdown("w");
  assertEquals(new TextDecoder().decode(await client.readAll()), "pipe PIPED");
  const result = await server.done();
  assertEquals(result.code, 0, result.stderr);
  match(result.stderr, /exec: gets pipes, not the socket \([^\n]*--allow-ffi[^\n]*\)\n/);
  match(result.stderr, /closed: 5 B ->, 10 B <-, [\d.]+ s \(exit 0\)\n/);
});

Deno.test("exec: with --progress is pumped even with --allow-ffi (nk counts the bytes)", async () => {
  await using server = Proc.nk([
    "listen",
    "tcp-listen:127.0.0.1:0",
    "-v",
    "--progress",
    "--exec",
    `python3 -c "${PIPE_OR_SOCKET}"`,
  ]);
  const port = await server.listeningPort();
  await using client = await tcp.connect("127.0.0.1", port);
  await client.writeAll("counted");
  await client.shutdown("w");
  assertEquals(new TextDecoder().decode(await client.readAll()), "pipe COUNTED");
  const result = await server.done();
  assertEquals(result.code, 0, result.stderr);
  match(result.stderr, /exec: gets pipes, not the socket \(--progress counts the bytes\)/);
  match(result.stderr, /closed: 7 B ->, 12 B <-/);
});
