/**
 * Child of process_spawn_sockets_test.ts: adopts the socket its parent
 * handed over at fd 3 with `fdopen(3)` and uses it.
 *
 * - `listener`: accepts one connection, answers `served by <pid>` and ends.
 * - `stream`: prints one JSON line (its addresses, as the kernel reports
 *   them), then answers each line `L` with `child: L` until `bye`, which it
 *   answers and then closes the stream.
 */
import { fdopen } from "../process/mod.ts";
import { TcpListener, TcpStream } from "../tcp/mod.ts";
import { UnixListener, UnixStream } from "../unix/mod.ts";

const [mode] = Deno.args;
const adopted = fdopen(3);
if (mode === "listener") {
  if (!(adopted instanceof TcpListener || adopted instanceof UnixListener)) {
    throw new Error(`fd 3 is no listener: ${adopted.constructor.name}`);
  }
  const conn = await adopted.accept();
  await conn.writeAll(`served by ${Deno.pid}\n`);
  await conn.shutdown("w");
  await conn.readAll();
  conn.close();
  adopted.close();
} else {
  if (!(adopted instanceof TcpStream || adopted instanceof UnixStream)) {
    throw new Error(`fd 3 is no stream: ${adopted.constructor.name}`);
  }
  console.log(JSON.stringify({
    kind: adopted.constructor.name,
    localAddr: adopted.localAddr,
    remoteAddr: adopted.remoteAddr,
  }));
  for (;;) {
    const line = await adopted.readLine();
    if (line === null) break;
    await adopted.writeAll(`child: ${line}\n`);
    if (line === "bye") break;
  }
  adopted.close();
}
