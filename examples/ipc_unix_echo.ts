/**
 * Ward's `samples/ipc_unix_echo` on netkit: an echo server on a unix socket
 * in a directory it creates (`mkdir`), after a crashed predecessor left a
 * stale socket behind (`unlink` cleans it), with owner-only permissions
 * (`mode: 0o600`), and a client that sends "ping".
 *
 * Run: `deno run -A examples/ipc_unix_echo.ts`
 *
 * @module
 */

import { connect, listen, type UnixStream } from "../unix/mod.ts";

async function echo(stream: UnixStream): Promise<void> {
  try {
    for (;;) {
      const data = await stream.read(1024);
      if (data === null) return;
      await stream.writeAll(data);
    }
  } finally {
    stream.close();
  }
}

/** Leaves a stale socket file at `path`, as a server killed with SIGKILL would. */
async function crashAt(path: string): Promise<void> {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `Deno.listen({ transport: "unix", path: Deno.args[0] }); console.log("up"); setInterval(() => {}, 1000);`,
      path,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.getReader();
  await reader.read(); // "up": the socket exists
  child.kill("SIGKILL");
  await child.status;
  await reader.cancel();
}

/** Runs the sample and returns what it did, line by line. */
export async function demo(): Promise<string[]> {
  const lines: string[] = [];
  const dir = await Deno.makeTempDir({ prefix: "netkit-ipc-" });
  try {
    const socket = `${dir}/run/ward-echo.sock`;
    await Deno.mkdir(`${dir}/run`);
    await crashAt(socket);
    lines.push(`a crashed server left ${socket.slice(dir.length + 1)} behind`);

    const listener = await listen(socket, {
      backlog: 8,
      mode: 0o600,
      mkdir: true,
      unlinkOnClose: true,
    });
    const mode = (await Deno.stat(socket)).mode! & 0o777;
    lines.push(`listening again (stale path removed), mode ${mode.toString(8)}`);

    const serving = (async () => {
      const handlers: Promise<void>[] = [];
      for await (const stream of listener) handlers.push(echo(stream));
      await Promise.all(handlers);
    })();

    const client = await connect(socket);
    await client.writeAll("ping");
    const response = new TextDecoder().decode(await client.readExact(4));
    client.close();
    lines.push(JSON.stringify({ response }));

    await listener[Symbol.asyncDispose]();
    await serving;
    const left = await Deno.lstat(socket).then(() => "still there", () => "removed");
    lines.push(`listener closed, socket path ${left}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  return lines;
}

if (import.meta.main) {
  for (const line of await demo()) console.log(line);
}
