/**
 * Socket paths under permissions scoped to one socket: a child `deno run`
 * granted only the flags the docs name listens, serves and binds; without
 * them it gets access_denied naming the missing flag and the scoped set.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { client, connect } from "../unix/mod.ts";
import { bindUnix } from "../udp/mod.ts";
import { LineChild, tempDir, UNIX_MOD } from "./_unix_util.ts";

const UDP_MOD = new URL("../udp/mod.ts", import.meta.url).href;

/** Binds as told (`kind path mode`), says `ready`, serves one use, or reports the failure. */
const CHILD = `
import { listen, serve } from "${UNIX_MOD}";
import { bindUnix } from "${UDP_MOD}";
const [kind, path, modeText] = Deno.args;
const mode = modeText === "-" ? undefined : Number.parseInt(modeText, 8);
const untilStdinEnds = async () => { for await (const _ of Deno.stdin.readable) { /* drain */ } };
try {
  if (kind === "listen") {
    const listener = await listen(path, { mode });
    console.log("ready");
    const stream = await listener.accept();
    await stream.writeAll("scoped listen " + (Deno.lstatSync(path).mode & 0o777).toString(8) + "\\n");
    stream.close();
    await listener[Symbol.asyncDispose]();
  } else if (kind === "serve") {
    const server = await serve(path, () => new Response("scoped serve"), { mode });
    console.log("ready");
    await untilStdinEnds();
    await server.shutdown();
  } else {
    const socket = await bindUnix(path, { mode });
    console.log("ready");
    const { data } = await socket.receive();
    console.log(new TextDecoder().decode(data));
    await socket[Symbol.asyncDispose]();
  }
} catch (error) {
  console.log(JSON.stringify({ code: error.code, message: error.message }));
}
`;

/** The flags the docs give for one socket at `path` (absolute). */
function scoped(path: string, kind: "stream" | "datagram", mode = false): string[] {
  const bindDir = `${path.slice(0, path.lastIndexOf("/"))}/.${
    path.slice(path.lastIndexOf("/") + 1)
  }.netkit-bind`;
  const files = [`--allow-read=${path},${bindDir}`, `--allow-write=${path},${bindDir}`];
  if (kind === "stream") return [...files, `--allow-net=unix:${path},unix:${bindDir}/s`];
  return ["--unstable-net", ...files, `--allow-net=unix:${path}`, ...(mode ? ["--allow-sys"] : [])];
}

async function script(dir: string): Promise<string> {
  const file = `${dir}/child.ts`;
  await Deno.writeTextFile(file, CHILD);
  return file;
}

/** Runs the child to its end with `flags`; its report of the failure. */
async function refused(
  flags: string[],
  file: string,
  args: string[],
): Promise<{ code: string; message: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--no-prompt", ...flags, file, ...args],
    cwd: file.slice(0, file.lastIndexOf("/")),
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const text = new TextDecoder().decode(output.stdout).trim();
  assert(output.success, text);
  assert(text !== "ready", "the child bound without the flags");
  return JSON.parse(text);
}

function names(dir: string): string[] {
  return [...Deno.readDirSync(dir)].map((entry) => entry.name).sort();
}

Deno.test("listen with only the socket's scoped flags: mode 0600 over a stale path, one connection served", async () => {
  await using sockets = await tempDir();
  await using scripts = await tempDir();
  const path = `${sockets.path}/app.sock`;
  const maker = Deno.listen({ transport: "unix", path: `${sockets.path}/maker.sock` });
  Deno.linkSync(`${sockets.path}/maker.sock`, path);
  maker.close(); // a stale file the scoped child has to take away
  const file = await script(scripts.path);
  const child = await LineChild.start(
    ["run", "--no-prompt", ...scoped(path, "stream"), file, "listen", path, "600"],
    scripts.path,
  );
  try {
    await using stream = await connect(path);
    assertEquals(await stream.readLine(), "scoped listen 600");
  } finally {
    await child[Symbol.asyncDispose]();
  }
  assertEquals(names(sockets.path), []);
});

Deno.test("serve with only the socket's scoped flags answers over its socket", async () => {
  await using sockets = await tempDir();
  await using scripts = await tempDir();
  const path = `${sockets.path}/http.sock`;
  const file = await script(scripts.path);
  const child = await LineChild.start(
    ["run", "--no-prompt", ...scoped(path, "stream"), file, "serve", path, "600"],
    scripts.path,
  );
  try {
    using http = client(path);
    const response = await fetch("http://localhost/", { client: http });
    assertEquals(await response.text(), "scoped serve");
    assertEquals((await Deno.lstat(path)).mode! & 0o777, 0o600);
  } finally {
    await child[Symbol.asyncDispose]();
  }
  assertEquals(names(sockets.path), []);
});

Deno.test("bindUnix with only the socket's scoped flags (and --allow-sys for mode) receives", async () => {
  await using sockets = await tempDir();
  await using scripts = await tempDir();
  const path = `${sockets.path}/dgram.sock`;
  Deno.listenDatagram({ transport: "unixpacket", path }).close(); // stale: Deno keeps datagram paths
  const file = await script(scripts.path);
  const child = await LineChild.start(
    ["run", "--no-prompt", ...scoped(path, "datagram", true), file, "bindUnix", path, "600"],
    scripts.path,
  );
  try {
    assertEquals((await Deno.lstat(path)).mode! & 0o777, 0o600);
    await using sender = await bindUnix(`${scripts.path}/sender.sock`);
    await sender.sendTo("scoped datagram", path);
    assertEquals(await child.line(), "scoped datagram");
  } finally {
    await child[Symbol.asyncDispose]();
  }
  assertEquals(names(sockets.path), []);
});

Deno.test("without the scoped flags, listen and bindUnix fail access_denied naming the flag", async () => {
  await using sockets = await tempDir();
  await using scripts = await tempDir();
  const path = `${sockets.path}/app.sock`;
  const file = await script(scripts.path);
  const stream = scoped(path, "stream");

  const bare = await refused([], file, ["listen", path, "600"]);
  assertEquals(bare.code, "access_denied");
  assert(bare.message.includes("--allow-read flag"), bare.message);
  assert(bare.message.includes(`needs ${stream.join(" ")}`), bare.message);

  const noNet = await refused(stream.slice(0, 2), file, ["listen", path, "600"]);
  assertEquals(noNet.code, "access_denied");
  assert(noNet.message.includes("--allow-net flag"), noNet.message);
  assert(noNet.message.includes(stream[2]), noNet.message);
  assertEquals(names(sockets.path), [], "a refused listen leaves nothing");

  const datagram = scoped(path, "datagram");
  const noSys = await refused(datagram, file, ["bindUnix", path, "600"]);
  assertEquals(noSys.code, "access_denied");
  assert(noSys.message.includes("--allow-sys flag"), noSys.message);
  assertEquals(names(sockets.path), [], "a refused bindUnix leaves nothing");
});
