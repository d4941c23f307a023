import { toNetError } from "../common/_errors.ts";
import { validateArgument, validateOptions } from "../common/_options.ts";
import type { Schema } from "../common/_options.ts";
import {
  bindPath,
  toSocketPath as toSocketPathFor,
  UNIX_PATH_RULES,
} from "../common/_unix_path.ts";
import type { BoundPath } from "../common/_unix_path.ts";
import type { UnixPathOptions } from "../common/unix_path.ts";
import { probeStream, unixAddr } from "./_util.ts";
import { displayPath } from "../common/_unix_path.ts";

/** Options of {@linkcode serve}: `listen`'s path options plus `Deno.serve`'s hooks. */
export interface ServeOptions extends UnixPathOptions {
  /** Shuts the server down when aborted. */
  signal?: AbortSignal;
  /** Called once listening, with the user's path (default: silent). */
  onListen?: (addr: Deno.UnixAddr) => void;
  /** Turns a handler's exception into a response (default: Deno's 500). */
  onError?: (error: unknown) => Response | Promise<Response>;
}

const SERVE_RULES: Schema = {
  ...UNIX_PATH_RULES,
  signal: { type: "signal" },
  onListen: { type: "function" },
  onError: { type: "function" },
};

/** A `Deno.HttpServer` on a unix path whose `addr` is the user's path. */
class UnixHttpServer implements Deno.HttpServer<Deno.UnixAddr> {
  #server: Deno.HttpServer<Deno.UnixAddr>;
  #addr: Deno.UnixAddr;
  #release: () => void;
  readonly finished: Promise<void>;

  constructor(bound: BoundPath<Deno.HttpServer<Deno.UnixAddr>>) {
    this.#server = bound.resource;
    this.#release = () => bound.release();
    this.#addr = unixAddr(bound.path);
    // Removing the path is chained into `finished`, so awaiting it means the path is gone.
    this.finished = this.#server.finished.then(() => {
      bound.release();
    });
  }

  get addr(): Deno.UnixAddr {
    return this.#addr;
  }

  shutdown(): Promise<void> {
    // The path goes first: while the server listens, no other binder deems it stale.
    this.#release();
    return this.#server.shutdown().then(() => this.finished);
  }

  ref(): void {
    this.#server.ref();
  }

  unref(): void {
    this.#server.unref();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown();
  }
}

/**
 * Serves HTTP on a unix socket (Racket's `make-unix-socket-tcp@` for the web
 * server), with {@linkcode listen}'s path handling: `mkdir`, stale paths,
 * `mode`, `owner`/`group`, `unlinkOnClose`, and one winner among
 * concurrent binders of the path. It needs the same permissions as
 * `listen`, including the flags of a run scoped to the socket.
 *
 * @param path The socket path (or on Linux an abstract name).
 * @param handler The request handler, as for `Deno.serve`.
 * @param options Path options plus `signal`, `onListen`, `onError`.
 * @returns The running server; `addr.path` is `path`; `shutdown()` (or
 *   `await using`) stops it and resolves once the path is removed.
 * @throws {NetError} as {@linkcode listen}.
 *
 * @example Serve and fetch over a socket
 * ```ts
 * import { client, serve } from "@netkit/netkit/unix";
 *
 * const dir = await Deno.makeTempDir();
 * const server = await serve(`${dir}/http.sock`, () => new Response("hello"), { mode: 0o600 });
 * using http = client(server.addr.path);
 * const response = await fetch("http://localhost/", { client: http });
 * console.log(await response.text()); // "hello"
 * await server.shutdown();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function serve(
  path: string,
  handler: Deno.ServeHandler<Deno.UnixAddr>,
  options?: ServeOptions,
): Promise<Deno.HttpServer<Deno.UnixAddr>> {
  validateArgument("serve", "handler", handler, { type: "function" });
  const checked = validateOptions<ServeOptions>("serve", options, SERVE_RULES);
  const { signal, onListen, onError } = checked;
  // Registered before Deno.serve's own listener, so an abort removes the path before it stops.
  const early: { bound?: BoundPath<Deno.HttpServer<Deno.UnixAddr>> } = {};
  signal?.addEventListener("abort", () => early.bound?.release(), { once: true });
  const bound = await bindPath(
    "serve",
    path,
    checked,
    (bindTo) =>
      Deno.serve({
        path: bindTo,
        handler,
        signal,
        onError,
        onListen: () => {},
      }),
    probeStream,
    (server) => {
      server.shutdown().catch(() => {});
    },
  );
  early.bound = bound;
  const server = new UnixHttpServer(bound);
  onListen?.(server.addr);
  return server;
}

/**
 * An HTTP client that sends every `fetch` through the unix socket at `path`
 * (`curl --unix-socket`); the URL's host only fills the `Host` header.
 *
 * @param path The server's socket path.
 * @returns A `Deno.HttpClient`; close it (or `using`) when done.
 * @throws {NetError} `invalid_argument` for a bad path.
 *
 * @example
 * ```ts
 * import { client, serve } from "@netkit/netkit/unix";
 *
 * const dir = await Deno.makeTempDir();
 * await using server = await serve(`${dir}/api.sock`, (request) => Response.json({ url: request.url }));
 * using http = client(`${dir}/api.sock`);
 * const body = await (await fetch("http://api.local/status", { client: http })).json();
 * console.log(body.url); // "http://api.local/status"
 * await server.shutdown();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export function client(path: string): Deno.HttpClient {
  const socketPath = toSocketPathFor("client", path);
  try {
    return Deno.createHttpClient({ proxy: { transport: "unix", path: socketPath } });
  } catch (error) {
    throw toNetError(error, "client", displayPath(socketPath));
  }
}
