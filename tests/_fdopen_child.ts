/**
 * Child of the descriptor-adoption tests: started with descriptors already
 * open at 3 (and 4) by its parent (python3's `pass_fds`), it adopts them
 * and does what its first argument says, printing one JSON line per step.
 *
 * - `serve`: fd 3 is a listener; accept one connection, answer its line.
 * - `stream`: fd 3 is a connected stream; say its addresses, write a line,
 *   answer the line it reads, half-close.
 * - `listenfds`: socket activation; list what `listenFds()` gave, then
 *   answer one connection on each listener with its name.
 * - `noffi`: run without `--allow-ffi`; report what fdopen and tcp.socket do.
 */
import { fdopen, listenFds } from "../process/mod.ts";
import { NetError } from "../mod.ts";
import * as tcp from "../tcp/mod.ts";
import * as unix from "../unix/mod.ts";

const say = (value: unknown) => console.log(JSON.stringify(value));

function outcome(work: () => unknown): unknown {
  try {
    const value = work();
    return { value: value?.constructor?.name ?? value };
  } catch (error) {
    if (!(error instanceof NetError)) throw error;
    return { code: error.code, field: error.field ?? null, message: error.message };
  }
}

const mode = Deno.args[0];
if (mode === "serve") {
  const listener = fdopen(3);
  if (!(listener instanceof tcp.TcpListener)) throw new Error(`not a listener: ${listener}`);
  say({ kind: listener.constructor.name, port: listener.addr.port, fd: listener.fileno() });
  const stream = await listener.accept({ timeout: 10_000 });
  const line = await stream.readLine({ timeout: 10_000 });
  await stream.writeAll(`child: ${line}\n`);
  stream.close();
  await listener[Symbol.asyncDispose]();
  say({ done: true });
} else if (mode === "stream") {
  const stream = fdopen(3);
  if (!(stream instanceof tcp.TcpStream) && !(stream instanceof unix.UnixStream)) {
    throw new Error(`not a stream: ${stream}`);
  }
  say({
    kind: stream.constructor.name,
    local: stream.localAddr,
    remote: stream.remoteAddr,
    type: stream.getOption("so_type"),
    fd: stream.fileno(),
  });
  await stream.writeAll("from the child\n");
  const line = await stream.readLine({ timeout: 10_000 });
  await stream.writeAll(`echo: ${line}\n`);
  await stream.shutdown("w");
  say({ rest: await stream.read(100, { timeout: 10_000 }) });
  stream.close();
} else if (mode === "listenfds") {
  const passed = listenFds();
  say({
    entries: passed.map((socket) => ({
      name: socket.name,
      kind: socket.constructor.name,
      fd: socket.fileno(),
      addr: "addr" in socket ? socket.addr : null,
    })),
    env: ["LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"].map((name) => Deno.env.get(name) ?? null),
    again: listenFds().length,
  });
  for (const socket of passed) {
    if (!(socket instanceof tcp.TcpListener) && !(socket instanceof unix.UnixListener)) continue;
    const stream = await socket.accept({ timeout: 10_000 });
    await stream.writeAll(`${socket.name}\n`);
    stream.close();
    await socket[Symbol.asyncDispose]();
  }
  say({ done: true });
} else if (mode === "noffi") {
  say({
    fdopen: outcome(() => fdopen(3)),
    duplicate: outcome(() => fdopen(3, { duplicate: true })),
    badN: outcome(() => fdopen(-1)),
    badOption: outcome(() => fdopen(3, { duplicate: "yes" as unknown as boolean })),
    stdout: outcome(() => fdopen(1)),
    socket: outcome(() => tcp.socket()),
    badFamily: outcome(() => tcp.socket({ family: "ipx" as "inet" })),
    listenFds: outcome(() => listenFds()),
  });
} else {
  throw new Error(`unknown mode ${mode}`);
}
