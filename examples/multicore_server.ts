/**
 * All cores: one listener, N Workers (default: the core count) each
 * accepting on its own duplicate of it — `fdopen(listener.fileno(), {
 * duplicate: true })` in the Worker — so the kernel hands each connection to
 * one of them, and a CPU-bound request on one core does not hold up the
 * others (sock's multi-threaded server, where threads share one epoll
 * descriptor). The parent's listener is never accepted on; closing one
 * Worker's duplicate leaves the others (and the parent's) serving.
 *
 * The Workers speak HTTP/1.1 (keep-alive), so `curl` and `wrk` can drive
 * them: `GET /echo/<text>` answers the text, `GET /hash/<text>` answers the
 * SHA-256 of 64 KiB made from it (see examples/_multicore_worker.ts).
 *
 * Run it: `deno run --allow-net --allow-ffi --allow-read
 * examples/multicore_server.ts [workers] [port] [reuseport]`, then e.g.
 * `curl http://127.0.0.1:8080/hash/abc` or `wrk -t2 -c32 -d10s
 * http://127.0.0.1:8080/hash/abc`. Without an argument it runs a short
 * demonstration instead.
 *
 * @module
 */

import { connect, listen, type TcpListener } from "../tcp/mod.ts";

/** What one Worker reports when stopped. */
export interface WorkerReport {
  /** Connections it accepted. */
  served: number;
  /** Requests it answered. */
  requests: number;
}

/** A running multi-core server. */
export interface MulticoreServer extends AsyncDisposable {
  /** The port every Worker serves. */
  readonly port: number;
  /** The parent's listener (never accepted on here); `null` with `share: "reuseport"`. */
  readonly listener: TcpListener | null;
  /** How many Workers serve. */
  readonly workers: number;
  /** Each Worker's own descriptor (a duplicate of the listener's; -1 with `share: "reuseport"`). */
  readonly descriptors: readonly number[];
  /** Stops Worker `i`: it closes its duplicate, finishes its connections and reports. */
  stopWorker(i: number): Promise<WorkerReport>;
  /** Stops every Worker still running and closes the listener; reports per Worker. */
  close(): Promise<WorkerReport[]>;
}

const WORKER = new URL("./_multicore_worker.ts", import.meta.url).href;

/** Waits for the Worker's next message, or its error. */
function nextMessage<T>(worker: Worker): Promise<T> {
  return new Promise((resolve, reject) => {
    worker.onmessage = (event) => resolve(event.data as T);
    worker.onerror = (event) => {
      event.preventDefault();
      reject(new Error(`worker failed: ${event.message}`));
    };
  });
}

/** Options of {@linkcode startServer}. */
export interface MulticoreOptions {
  hostname?: string;
  /** Default 0: a free port. */
  port?: number;
  /** Default: the core count. */
  workers?: number;
  /**
   * `"duplicate"` (default): each Worker accepts on its own duplicate of the
   * parent's listener. `"reuseport"`, for comparison: each Worker listens on
   * the port itself with SO_REUSEPORT and the kernel spreads connections
   * over the listeners by address; the parent holds no listener.
   */
  share?: "duplicate" | "reuseport";
}

/**
 * Listens on `hostname:port` and starts `workers` Workers on duplicates of
 * the listener. Needs `--allow-net`, `--allow-ffi` (the Workers adopt the
 * descriptor) and `--allow-read` (the Workers' module).
 */
export async function startServer(options: MulticoreOptions = {}): Promise<MulticoreServer> {
  const count = options.workers ?? navigator.hardwareConcurrency;
  const hostname = options.hostname ?? "127.0.0.1";
  const reuse = options.share === "reuseport";
  const listener = reuse ? null : listen({ hostname, port: options.port ?? 0 });
  const fd = listener?.fileno();
  let port = listener?.addr.port ?? options.port ?? 0;
  const workers: (Worker | null)[] = [];
  const descriptors: number[] = [];
  const reports: (WorkerReport | undefined)[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const worker = new Worker(WORKER, { type: "module" });
      workers.push(worker);
      const ready = nextMessage<{ fd: number; port: number }>(worker);
      worker.postMessage(reuse ? { bind: { hostname, port } } : { fd });
      const started = await ready;
      descriptors.push(started.fd);
      port = started.port;
    }
  } catch (error) {
    for (const worker of workers) worker?.terminate();
    listener?.close();
    throw error;
  }
  const stopWorker = async (i: number): Promise<WorkerReport> => {
    const worker = workers[i];
    if (worker === null) return reports[i]!;
    const stopped = nextMessage<WorkerReport>(worker);
    worker.postMessage({ stop: true });
    const { served, requests } = await stopped;
    worker.terminate();
    workers[i] = null;
    return reports[i] = { served, requests };
  };
  const close = async (): Promise<WorkerReport[]> => {
    const all = await Promise.all(workers.map((_, i) => stopWorker(i)));
    await listener?.[Symbol.asyncDispose]();
    return all;
  };
  return {
    port,
    listener,
    workers: count,
    descriptors,
    stopWorker,
    close,
    [Symbol.asyncDispose]: async () => {
      await close();
    },
  };
}

/** One request on a fresh connection; resolves with the response body. */
export async function request(port: number, path: string): Promise<string> {
  await using stream = await connect("127.0.0.1", port, { timeout: 5000 });
  await stream.writeAll(`GET ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n`);
  const response = new TextDecoder().decode(await stream.readAll({ timeout: 10_000 }));
  return response.slice(response.indexOf("\r\n\r\n") + 4).trimEnd();
}

/** A short run: 2 Workers, 40 hash requests 8 at a time, one Worker stopped, 8 more. */
export async function demo(): Promise<string[]> {
  const lines: string[] = [];
  await using server = await startServer({ workers: 2 });
  const port = server.port;
  lines.push(`2 workers on 127.0.0.1 (each on its own duplicate of the listener)`);
  lines.push(`echo: ${await request(port, "/echo/hello")}`);
  for (let wave = 0; wave < 5; wave++) {
    await Promise.all(Array.from({ length: 8 }, (_, i) => request(port, `/hash/${wave}-${i}`)));
  }
  const first = await server.stopWorker(0);
  lines.push(`worker 0 stopped after ${first.served > 0 ? "serving" : "not serving"}`);
  const after = await Promise.all(Array.from({ length: 8 }, () => request(port, "/hash/abc")));
  lines.push(
    `after worker 0 closed its duplicate: ${after.length} answers, ${new Set(after).size} distinct`,
  );
  lines.push(`parent's listener still open: ${!server.listener!.closed}`);
  return lines;
}

if (import.meta.main) {
  if (Deno.args.length === 0) {
    for (const line of await demo()) console.log(line);
  } else {
    const workers = Number(Deno.args[0]) || navigator.hardwareConcurrency;
    const port = Number(Deno.args[1] ?? 8080);
    const share = Deno.args[2] === "reuseport" ? "reuseport" : "duplicate";
    const server = await startServer({ hostname: "127.0.0.1", port, workers, share });
    console.log(`${server.workers} workers serving on http://127.0.0.1:${port} (Ctrl-C stops)`);
    Deno.addSignalListener("SIGINT", async () => {
      const reports = await server.close();
      console.log(reports.map((r, i) => `worker ${i}: ${r.requests} requests`).join(", "));
      Deno.exit(0);
    });
  }
}
