/**
 * Requests per second of examples/multicore_server.ts with 1 and 2 Workers
 * (or the counts given), on the CPU-bound handler (`/hash/…`: SHA-256 over
 * 64 KiB per request) and on the echo handler (`/echo/…`), driven by `wrk`
 * in its own process (Debian: `apt-get install wrk`). The server runs in a
 * child `deno run`, so the client, the parent and the Workers are separate.
 *
 * Run it: `deno run -A bench/multicore_run.ts [seconds] [workers...]`
 * (default 5 s, workers 1 and 2). It prints one line per case and run,
 * with the connections each Worker accepted, and the machine's load
 * average before each case (other work on the machine takes cores too).
 *
 * @module
 */

const SERVER = new URL("../examples/multicore_server.ts", import.meta.url).pathname;
const seconds = Number(Deno.args[0] ?? 5);
const counts = Deno.args.length > 1 ? Deno.args.slice(1).map(Number) : [1, 2];
const RUNS = Number(Deno.env.get("MULTICORE_RUNS") ?? 3);
const CONNECTIONS = 32;

interface Case {
  name: string;
  path: string;
  /** wrk's extra arguments (a header that makes every request a new connection). */
  extra: string[];
  /** How the Workers share the port (see examples/multicore_server.ts). */
  share: "duplicate" | "reuseport";
}

const CASES: Case[] = [
  { name: "hash keep-alive", path: "/hash/netkit", extra: [], share: "duplicate" },
  {
    name: "hash new conn.",
    path: "/hash/netkit",
    extra: ["-H", "Connection: close"],
    share: "duplicate",
  },
  { name: "echo keep-alive", path: "/echo/netkit", extra: [], share: "duplicate" },
  { name: "hash k-a reuseport", path: "/hash/netkit", extra: [], share: "reuseport" },
  { name: "echo k-a reuseport", path: "/echo/netkit", extra: [], share: "reuseport" },
];

function loadAverage(): string {
  return Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
}

/** Starts the server with `workers` Workers; resolves once it prints its first line. */
async function startServer(
  workers: number,
  port: number,
  share: string,
): Promise<Deno.ChildProcess> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", SERVER, String(workers), String(port), share],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  while (!seen.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the server ended before it served");
    seen += value;
  }
  // Keep draining: the server prints its per-Worker counts when stopped.
  (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += value;
    }
  })();
  Object.assign(child, { output: () => seen });
  return child;
}

async function wrk(port: number, c: Case): Promise<number> {
  const out = await new Deno.Command("wrk", {
    args: [
      "-t1",
      `-c${CONNECTIONS}`,
      `-d${seconds}s`,
      ...c.extra,
      `http://127.0.0.1:${port}${c.path}`,
    ],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  const match = /Requests\/sec:\s+([\d.]+)/.exec(text);
  if (match === null) throw new Error(`wrk said:\n${text}`);
  if (/Non-2xx|Socket errors/.test(text)) {
    console.log(text.split("\n").filter((l) => /Non-2xx|Socket errors/.test(l)).join("\n"));
  }
  return Number(match[1]);
}

console.log(
  `${navigator.hardwareConcurrency} cores; wrk -t1 -c${CONNECTIONS} -d${seconds}s; ${RUNS} runs`,
);
let port = 18400;
for (const c of CASES) {
  for (let run = 1; run <= RUNS; run++) {
    for (const workers of counts) {
      port++;
      const load = loadAverage();
      const server = await startServer(workers, port, c.share);
      const rate = await wrk(port, c);
      server.kill("SIGINT");
      await server.status;
      const counts = (server as unknown as { output(): string }).output().split("\n")[1] ?? "";
      console.log(
        `${c.name.padEnd(18)} run ${run} workers ${workers}: ${rate.toFixed(0).padStart(6)} req/s` +
          `  (load ${load}; ${counts.trim()})`,
      );
    }
  }
}
