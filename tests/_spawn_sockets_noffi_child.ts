/**
 * Child of process_spawn_sockets_test.ts, run WITHOUT `--allow-ffi`: a
 * TcpStream in `files` is pumped as before; a listener or a datagram
 * socket is `not_supported` naming the flag; a bad key is still
 * `invalid_argument`. Prints one JSON object.
 */
import { NetError, spawn } from "../process/mod.ts";
import * as tcp from "../tcp/mod.ts";
import * as udp from "../udp/mod.ts";

const report: Record<string, unknown> = {};
/**
 * How many sockets we hold, read by a child (reading /proc/self/fd needs every permission; a
 * child's pipes come and go, so only sockets are counted).
 */
async function count(): Promise<number> {
  await using child = await spawn(["sh", "-c", "ls -l /proc/$PPID/fd | grep -c socket:"], {
    files: { 1: "piped" },
  });
  const line = await child.stdout!.readLine();
  await child.wait();
  return Number(line);
}

async function attempt(work: () => Promise<unknown>): Promise<unknown> {
  try {
    await work();
    return { value: "ok" };
  } catch (error) {
    if (!(error instanceof NetError)) throw error;
    return { code: error.code, field: error.field ?? null, message: error.message };
  }
}

const before = await count();
const listener = tcp.listen({ hostname: "127.0.0.1", port: 0 });
const client = await tcp.connect("127.0.0.1", listener.addr.port);
const server = await listener.accept();
await client.writeAll("hello\n");
const child = await spawn(["sh", "-c", "read line; echo got $line"], {
  files: { 0: server, 1: server, 2: "inherit" },
});
report.pumped = await client.readLine();
await child.wait();
client.close();

report.listener = await attempt(() => spawn(["true"], { files: { 3: listener } }));
report.listenerOpen = !listener.closed;
const socket = await udp.bind({ hostname: "127.0.0.1", port: 0 });
report.datagram = await attempt(() => spawn(["true"], { files: { 3: socket } }));
report.badKey = await attempt(() => spawn(["true"], { files: { 3: listener, x: 1 } as never }));
socket.close();
listener.close();
report.descriptorsBack = (await count()) === before;
console.log(JSON.stringify(report));
