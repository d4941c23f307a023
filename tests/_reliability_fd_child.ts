/**
 * Child of reliability_fd_exhaustion_test.ts, run under
 * `ulimit -n LIMIT` as `deno run -A --no-config CHILD tcp|unix DIR`.
 *
 * 1. Opens connections (connect + accept) until one side fails.
 * 2. Frees 10 and checks the listener still serves an echo, including the
 *    client whose accept failed (when accept was the side that failed).
 * 3. Exhausts descriptors with files, lets one client connect (the kernel
 *    queues it), so that `accept` itself fails; frees files and checks the
 *    queued client is then accepted and served.
 *
 * Prints one JSON line with what happened; exits 0 unless something threw
 * that was not a NetError.
 */
import * as tcp from "../tcp/mod.ts";
import * as unix from "../unix/mod.ts";
import { NetError } from "../common/errors.ts";
import type { Stream } from "../common/stream.ts";

const [transport, dir] = Deno.args;
const path = `${dir}/fd.sock`;

interface Server {
  accept(options?: { timeout?: number }): Promise<Stream>;
  [Symbol.asyncDispose](): Promise<void>;
}

const listener: Server = transport === "tcp"
  ? tcp.listen({ hostname: "127.0.0.1", port: 0 })
  : await unix.listen(path);
const port = transport === "tcp" ? (listener as tcp.TcpListener).addr.port : 0;
const connect = (): Promise<Stream> =>
  transport === "tcp" ? tcp.connect("127.0.0.1", port, { timeout: 5000 }) : unix.connect(path);

function describe(error: unknown): { op: string; code: string; name: string } {
  if (!(error instanceof NetError)) throw error;
  return { op: error.op, code: error.code, name: (error.cause as Error)?.name ?? "" };
}

async function echo(client: Stream, server: Stream): Promise<boolean> {
  await client.writeAll("ping");
  await server.writeAll(await server.readExact(4, { timeout: 5000 }));
  return new TextDecoder().decode(await client.readExact(4, { timeout: 5000 })) === "ping";
}

const held: Stream[] = [];
const result: Record<string, unknown> = { transport };
// A client whose accept failed: the kernel keeps it queued on the listener.
let orphan: Stream | undefined;

// 1. Connections until the descriptors run out. Whether connect or accept
// fails first depends on how many descriptors the runtime itself holds.
for (let i = 0; i < 200 && result.first === undefined; i++) {
  let client: Stream;
  try {
    client = await connect();
  } catch (error) {
    result.first = describe(error);
    break;
  }
  try {
    const server = await listener.accept({ timeout: 5000 });
    held.push(client, server);
  } catch (error) {
    result.first = describe(error);
    orphan = client;
  }
}
result.held = held.length;

// 2. Free ten, then the orphan (if any) is accepted and served, and so is a
// new client.
for (const stream of held.splice(0, 10)) stream.close();
if (orphan !== undefined) {
  const server = await listener.accept({ timeout: 5000 });
  result.orphanServed = await echo(orphan, server);
  orphan.close();
  server.close();
}
const [client, server] = await Promise.all([connect(), listener.accept({ timeout: 5000 })]);
result.servesAfterFreeing = await echo(client, server);
client.close();
server.close();
for (const stream of held.splice(0)) stream.close();

// 3. accept itself fails: exhaust with files, leave one descriptor for the client.
const files: Deno.FsFile[] = [];
try {
  for (let i = 0; i < 200; i++) files.push(Deno.openSync("/dev/null"));
} catch (error) {
  result.fileError = (error as Error).name;
}
files.pop()!.close();
const queued = await connect(); // takes the last descriptor; the kernel queues it
try {
  await listener.accept({ timeout: 5000 });
  result.acceptFailed = false;
} catch (error) {
  result.acceptFailure = describe(error);
}
for (const file of files.splice(0, 10)) file.close();
const accepted = await listener.accept({ timeout: 5000 });
result.queuedServed = await echo(queued, accepted);
queued.close();
accepted.close();
for (const file of files) file.close();
await listener[Symbol.asyncDispose]();
console.log(JSON.stringify(result));
