/**
 * Child of native_noffi_test.ts, run WITHOUT `--allow-ffi` (every other
 * flag it needs is granted): each capability below Deno must fail
 * `not_supported` naming the flag, and everything else must keep working.
 * Prints one JSON object: what each call did.
 */
import { nativeSupport, NetError } from "../mod.ts";
import * as tcp from "../tcp/mod.ts";
import * as unix from "../unix/mod.ts";
import * as udp from "../udp/mod.ts";

const [dir] = Deno.args;
const report: Record<string, unknown> = {};

/** What a call did: its value, or the NetError's code, field and message. */
function attempt(work: () => unknown): unknown {
  try {
    return { value: work() ?? null };
  } catch (error) {
    if (!(error instanceof NetError)) throw error;
    return { code: error.code, field: error.field ?? null, message: error.message };
  }
}

report.support = nativeSupport();
report.permission = Deno.permissions.querySync({ name: "ffi" }).state;

const listener = tcp.listen({ hostname: "127.0.0.1", port: 0, backlog: 16 });
const client = await tcp.connect("127.0.0.1", listener.addr.port);
const server = await listener.accept();
report.fileno = attempt(() => client.fileno());
report.listenerFileno = attempt(() => listener.fileno());
report.setRcvbuf = attempt(() => client.setOption("so_rcvbuf", 65536));
report.getRcvbuf = attempt(() => client.getOption("so_rcvbuf"));
report.listenerOption = attempt(() => listener.getOption("so_acceptconn"));
report.setNodelay = attempt(() => client.setOption("tcp_nodelay", false));
report.getNodelay = attempt(() => client.getOption("tcp_nodelay"));
report.setKeepalive = attempt(() => client.setOption("so_keepalive", true));
report.getKeepalive = attempt(() => client.getOption("so_keepalive"));
report.badName = attempt(() => client.getOption("so_nothing" as never));
report.badValue = attempt(() => client.setOption("so_linger", "soon" as never));
report.wrongSocket = attempt(() => client.getOption("so_peercred"));
report.readOnly = attempt(() => client.setOption("o_nonblock" as never, false as never));
report.abort = attempt(() => client.abort());
report.stillOpen = !client.closed;
await client.writeAll("still works\n");
report.echo = await server.readLine();
client.close();
report.afterClose = await server.read();
server.close();
listener.close();

const path = `${dir}/n.sock`;
const unixListener = await unix.listen(path, { backlog: 4 });
const unixClient = await unix.connect(path);
const unixServer = await unixListener.accept();
report.unixPeercred = attempt(() => unixServer.getOption("so_peercred"));
report.unixAbort = attempt(() => unixServer.abort());
await unixClient.writeAll("unix ok\n");
report.unixEcho = await unixServer.readLine();
unixClient.close();
unixServer.close();
unixListener.close();

const socket = await udp.bind({ hostname: "127.0.0.1", port: 0 });
report.udpFileno = attempt(() => socket.fileno());
report.udpOption = attempt(() => socket.setOption("ip_ttl", 3));
await socket.sendTo("udp ok", "127.0.0.1", socket.addr.port);
report.udpEcho = new TextDecoder().decode((await socket.receive()).data);
socket.close();

console.log(JSON.stringify(report));
