/**
 * cli: relay throughput of `nk relay` against `socat` on the same machine
 * (socat is the group's baseline). Each run pushes 256 MiB through the
 * relay over loopback, `tcp-listen:` → `tcp:`, from a source to a sink in
 * this process; both relays run for the whole bench (`nk relay --keep`,
 * socat with `fork`), so start-up is not measured. Without socat on PATH
 * the socat case is skipped with a message.
 *
 * Run: `deno bench -A bench/cli_bench.ts`
 *
 * @module
 */

const TOTAL = 256 * 1024 * 1024;
const CHUNK = 256 * 1024;
const CLI = new URL("../cli/mod.ts", import.meta.url).pathname;
const ROOT = new URL("..", import.meta.url).pathname;

const chunk = new Uint8Array(CHUNK).fill(7);
const sinkBuffer = new Uint8Array(CHUNK);

/** The sink: counts every byte of each connection it accepts. */
const sink = Deno.listen({ hostname: "127.0.0.1", port: 0 });
const sinkPort = sink.addr.port;

async function drain(): Promise<number> {
  const conn = await sink.accept();
  let got = 0;
  for (;;) {
    const n = await conn.read(sinkBuffer);
    if (n === null) break;
    got += n;
  }
  conn.close();
  return got;
}

/** Reads `child`'s stderr until `pattern` matches, then keeps draining it. */
async function portFrom(child: Deno.ChildProcess, pattern: RegExp): Promise<number> {
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`relay ended before listening: ${text}`);
    text += value;
    const match = pattern.exec(text);
    if (match) {
      (async () => {
        while (!(await reader.read()).done);
      })();
      return Number(match[1]);
    }
  }
}

async function push(port: number): Promise<void> {
  const draining = drain();
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  for (let sent = 0; sent < TOTAL; sent += CHUNK) {
    for (let at = 0; at < CHUNK;) at += await conn.write(chunk.subarray(at));
  }
  await conn.closeWrite();
  const got = await draining;
  conn.close();
  if (got !== TOTAL) throw new Error(`sink got ${got} of ${TOTAL} bytes`);
}

function hasSocat(): boolean {
  try {
    return new Deno.Command("socat", { args: ["-V"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

const children: Deno.ChildProcess[] = [];

const nk = new Deno.Command(Deno.execPath(), {
  args: [
    "run",
    "-A",
    CLI,
    "relay",
    "--keep",
    "-v",
    "tcp-listen:127.0.0.1:0",
    `tcp:127.0.0.1:${sinkPort}`,
  ],
  cwd: ROOT,
  stdin: "null",
  stdout: "null",
  stderr: "piped",
}).spawn();
children.push(nk);
const nkPort = await portFrom(nk, /listening on tcp-listen:127\.0\.0\.1:(\d+)/);

/** A socat relay to the sink; `buffer` is its -b (default: socat's own 8 KiB). */
async function startSocat(buffer?: number): Promise<number> {
  const socat = new Deno.Command("socat", {
    args: [
      ...(buffer === undefined ? [] : ["-b", String(buffer)]),
      "-d",
      "-d",
      "TCP-LISTEN:0,bind=127.0.0.1,reuseaddr,fork",
      `TCP:127.0.0.1:${sinkPort}`,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  children.push(socat);
  return await portFrom(socat, /listening on AF=2 127\.0\.0\.1:(\d+)/);
}

let socatPort: number | undefined;
let socatBigPort: number | undefined;
if (hasSocat()) {
  socatPort = await startSocat();
  // The same chunk size as nk's (256 KiB), so the buffer size is not what differs.
  socatBigPort = await startSocat(256 * 1024);
} else {
  console.error("cli_bench: socat is not on PATH; the socat case is skipped");
}

Deno.bench({
  name: "socat: relay 256 MiB tcp-listen -> tcp",
  group: "relay",
  baseline: true,
  ignore: socatPort === undefined,
  n: 5,
  warmup: 1,
  async fn() {
    await push(socatPort!);
  },
});

Deno.bench({
  name: "socat -b 262144: relay 256 MiB tcp-listen -> tcp",
  group: "relay",
  ignore: socatBigPort === undefined,
  n: 5,
  warmup: 1,
  async fn() {
    await push(socatBigPort!);
  },
});

Deno.bench({
  name: "nk relay: 256 MiB tcp-listen -> tcp",
  group: "relay",
  n: 5,
  warmup: 1,
  async fn() {
    await push(nkPort);
  },
});

globalThis.addEventListener("unload", () => {
  for (const child of children) {
    try {
      child.kill("SIGTERM");
    } catch {
      // Already gone.
    }
  }
  sink.close();
});
