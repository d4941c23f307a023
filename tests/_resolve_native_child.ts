/**
 * Child of common_resolve_native_test.ts. Modes:
 * - `noffi`: run WITHOUT `--allow-ffi`; each getaddrinfo option must fail
 *   `not_supported` naming the flag, bad values `invalid_argument`.
 * - `addrconfig`: run in a network namespace with loopback only.
 * - `slow`: run in a namespace whose resolv.conf names 127.0.0.1, where this
 *   script keeps a DNS server that never answers.
 * Prints one JSON object.
 */
import { NetError, resolve } from "../mod.ts";
import { lookupsSettled } from "../common/_address.ts";
import { addrinfoCounts } from "../common/_native/getaddrinfo.ts";

const [mode] = Deno.args;
const report: Record<string, unknown> = {};

/** What a lookup did: its addresses, or the NetError's code, field, message and EAI name. */
async function attempt(work: () => Promise<{ address: string }[]>): Promise<unknown> {
  try {
    return { value: (await work()).map((entry) => entry.address) };
  } catch (error) {
    if (!(error instanceof NetError)) throw error;
    const eai = (error.cause as { code?: string } | undefined)?.code;
    return mode === "addrconfig"
      ? { code: error.code, eai }
      : { code: error.code, field: error.field, message: error.message };
  }
}

if (mode === "noffi") {
  const cases: Record<string, [string | null, Record<string, unknown>]> = {
    canonicalName: ["localhost", { canonicalName: true }],
    service: ["localhost", { port: "http" }],
    type: ["localhost", { type: "tcp" }],
    protocol: ["localhost", { protocol: 6 }],
    passive: ["localhost", { passive: true }],
    numericHost: ["127.0.0.1", { numericHost: true }],
    numericService: ["localhost", { numericService: true, port: 80 }],
    v4Mapped: ["localhost", { v4Mapped: true, family: "inet6" }],
    addrConfig: ["localhost", { addrConfig: true }],
    all: ["localhost", { all: true }],
    noName: [null, { port: 80 }],
    badType: ["localhost", { type: "sctp" }],
    badPort: ["localhost", { port: "no such" }],
  };
  for (const [key, [name, options]] of Object.entries(cases)) {
    report[key] = await attempt(() => resolve(name, options as never));
  }
  report.plain = await attempt(() => resolve("localhost", { family: "inet" }));
} else if (mode === "addrconfig") {
  report.plain = await attempt(() => resolve("127.0.0.1", { family: "inet", type: "tcp" }));
  report.v4 = await attempt(() =>
    resolve("127.0.0.1", { family: "inet", addrConfig: true, type: "tcp" })
  );
  report.v6 = await attempt(() =>
    resolve("::1", { family: "inet6", addrConfig: true, type: "tcp" })
  );
  report.any = await attempt(() => resolve("localhost", { addrConfig: true, type: "tcp" }));
} else if (mode === "slow") {
  // The silent DNS server: reports the first query, then waits for stdin to end.
  const server = new Deno.Command("python3", {
    args: [
      "-c",
      [
        "import socket, sys",
        "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)",
        "s.bind(('127.0.0.1', 53))",
        "print('ready', flush=True)",
        "s.recvfrom(512)",
        "print('query', flush=True)",
        "sys.stdin.read()",
      ].join("\n"),
    ],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const lines = server.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  const next = async (word: string) => {
    while (!seen.includes(word)) {
      const { value, done } = await lines.read();
      if (done) return false;
      seen += value;
    }
    return true;
  };
  await next("ready");
  const before = addrinfoCounts();
  const pending = resolve("slow.example", { type: "tcp", family: "inet", timeout: 100 });
  try {
    await pending;
    report.code = "resolved";
  } catch (error) {
    report.code = (error as NetError).code;
  }
  const atTimeout = addrinfoCounts();
  report.pendingAtTimeout = atTimeout.started - atTimeout.returned -
    (before.started - before.returned);
  report.queried = await next("query");
  // The server never answers: the resolver gives up after its own 1 s, and a
  // second call (no deadline) sees what the first one ended with.
  let late: unknown;
  try {
    await resolve("slow.example", { type: "tcp", family: "inet" });
  } catch (error) {
    late = error;
  }
  report.lateCode = (late as NetError).code;
  report.lateEai = ((late as NetError).cause as { code?: string } | undefined)?.code;
  report.lateMessage = (late as NetError).message;
  await lookupsSettled();
  const after = addrinfoCounts();
  report.after = { pending: after.started - after.returned, freed: after.freed - before.freed };
  const writer = server.stdin.getWriter();
  await writer.close();
  await lines.cancel();
  await server.status;
}

console.log(JSON.stringify(report));
