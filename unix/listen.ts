import { Listener } from "../common/listener.ts";
import { validateOptions } from "../common/_options.ts";
import type { Schema } from "../common/_options.ts";
import { bindPath, UNIX_PATH_RULES } from "../common/_unix_path.ts";
import { type BoundPath, boundPaths } from "../common/_unix_path.ts";
import type { UnixPathOptions } from "../common/unix_path.ts";
import { UnixStream } from "./stream.ts";
import { probeStream, unixAddr } from "./_util.ts";
import { displayPath } from "../common/_unix_path.ts";
import { applyBacklog, unixAcceptSource } from "../common/_native/ops.ts";

/** Options of {@linkcode listen}, with Ward's defaults. */
export interface ListenOptions extends UnixPathOptions {
  /**
   * Pending-connection queue length: a positive integer. Deno always
   * listens on unix sockets with 1024; with `--allow-ffi` netkit applies
   * the value given to the kernel (listen(2) again), without it the queue
   * stays 1024.
   */
  backlog?: number;
}

const LISTEN_RULES: Schema = {
  backlog: { type: "integer", min: 1, max: 0x7fffffff },
  ...UNIX_PATH_RULES,
};

/** Listeners still open, so their paths go when the program ends normally. */
const open = new Set<UnixListener>();
let unloadHooked = false;

function hookUnload(): void {
  if (unloadHooked) return;
  unloadHooked = true;
  globalThis.addEventListener("unload", () => {
    for (const listener of [...open]) listener.close();
  });
}

/**
 * A unix socket listener (made by {@linkcode listen}). One accept is
 * outstanding at a time, so an accept that times out loses no connection;
 * closing rejects waiting accepts with `closed` and removes the path when
 * `unlinkOnClose` holds and the path is still this listener's file.
 *
 * @example Accept in a loop
 * ```ts
 * import { connect, listen } from "@netkit/netkit/unix";
 *
 * const dir = await Deno.makeTempDir();
 * const listener = await listen(`${dir}/loop.sock`);
 * const serving = (async () => {
 *   for await (const stream of listener) {
 *     await stream.writeAll("hello\n");
 *     stream.close();
 *   }
 * })();
 * const client = await connect(listener.path);
 * console.log(await client.readLine()); // "hello"
 * client.close();
 * await listener[Symbol.asyncDispose]();
 * await serving;
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class UnixListener extends Listener<UnixStream, Deno.UnixConn> {
  #bound: BoundPath<Deno.UnixListener>;
  #addr: Deno.UnixAddr;

  /**
   * Wraps a bound listener; user code calls {@linkcode listen} instead.
   *
   * @param bound The bound runtime listener and its path.
   */
  constructor(bound: BoundPath<Deno.UnixListener>) {
    const addr = unixAddr(bound.path);
    super(
      unixAcceptSource(bound.resource),
      (conn) => new UnixStream(conn, { localAddr: addr, remoteAddr: conn.remoteAddr }),
      displayPath(bound.path),
    );
    this.#bound = bound;
    boundPaths.set(this, bound);
    this.#addr = addr;
    open.add(this);
    hookUnload();
  }

  /** The path as given to `listen` (`"@name"` is reported as `"\0name"`). */
  get path(): string {
    return this.#bound.path;
  }

  /** The listening address: `{ transport: "unix", path }`. */
  get addr(): Deno.UnixAddr {
    return this.#addr;
  }

  /**
   * Stops listening: waiting accepts reject `closed`; the path is removed
   * if `unlinkOnClose` (default) and it is still the file this listener
   * bound (another server may have replaced it). Use `await using` or
   * `[Symbol.asyncDispose]()` to also wait until a pending accept let go.
   *
   * @returns `true` when this call closed it, `false` if already closed.
   *
   * @example
   * ```ts
   * import { listen } from "@netkit/netkit/unix";
   *
   * const dir = await Deno.makeTempDir();
   * const listener = await listen(`${dir}/c.sock`);
   * console.log(listener.close(), listener.close()); // true false
   * await Deno.remove(dir, { recursive: true });
   * ```
   */
  override close(): boolean {
    if (this.closed) return false;
    // The path goes first: while this socket listens, no other binder deems it stale.
    this.#bound.release();
    super.close();
    open.delete(this);
    return true;
  }
}

/**
 * Listens on a unix socket path and manages the path's whole life: parent
 * directories (`mkdir`), a stale path left by a crashed server (`unlink`:
 * probed by connecting; refused or missing → removed; a live server or a
 * file that is not a socket → `address_in_use`), permissions applied
 * before the path exists (`mode`), `owner`/`group`, and removal on close
 * (`unlinkOnClose`, only of this listener's own file).
 *
 * Concurrent `listen` calls on one path, in this process or others, get
 * exactly one winner; the others fail `address_in_use`. They take turns on
 * a lock on the path's private directory `<dir>/.<name>.netkit-bind`
 * (mode 0700, removed when done), where the socket is also bound as `s`
 * and given its mode before it is linked to the path.
 *
 * Permissions scoped to one socket, e.g. `/run/app/api.sock` (absolute paths):
 * `--allow-read=/run/app/api.sock,/run/app/.api.sock.netkit-bind`
 * `--allow-write=/run/app/api.sock,/run/app/.api.sock.netkit-bind`
 * `--allow-net=unix:/run/app/api.sock,unix:/run/app/.api.sock.netkit-bind/s`.
 * With `mkdir`, `--allow-write` of the directory instead. No `--allow-sys`
 * is needed. An abstract name needs a bare `--allow-net`. A path of more
 * than 92 bytes (88 off Linux) leaves no room for the private name: it is
 * bound under a random name (needs `--allow-read`/`--allow-write` of the
 * directory and a bare `--allow-net`), or, within 6 bytes of the limit, in
 * place (the scoped grants plus `--allow-sys` for `mode`). A missing flag is
 * `access_denied`, whose message names it and the whole scoped set.
 *
 * @param path A filesystem path (relative ones resolve against the cwd and
 *   are reported as given), or on Linux an abstract name `"\0name"`/`"@name"`
 *   (no file; `mode`/`owner`/`group` are then rejected).
 * @param options `backlog` (positive integer; applied to the kernel with
 *   `--allow-ffi`, else Deno's 1024 stays), `mode`, `owner`, `group`, `unlink` (default
 *   true), `unlinkOnClose` (default true), `mkdir` (default false).
 * @returns The listener.
 * @throws {NetError} `invalid_argument` naming the field; `address_in_use`;
 *   `access_denied` (permissions, `chown` refused — nothing is left behind
 *   — or a missing `--allow-*` flag); `not_found` (missing parent without
 *   `mkdir`); `not_supported` (abstract names off Linux).
 *
 * @example Ward's options
 * ```ts
 * import { connect, listen } from "@netkit/netkit/unix";
 *
 * const dir = await Deno.makeTempDir();
 * const listener = await listen(`${dir}/run/app.sock`, {
 *   backlog: 8,
 *   mode: 0o660,
 *   mkdir: true,
 *   unlinkOnClose: true,
 * });
 * console.log(((await Deno.stat(listener.path)).mode! & 0o777).toString(8)); // "660"
 * const client = await connect(listener.path);
 * const server = await listener.accept();
 * client.close();
 * server.close();
 * listener.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export async function listen(path: string, options?: ListenOptions): Promise<UnixListener> {
  const checked = validateOptions<ListenOptions>("listen", options, LISTEN_RULES);
  const bound = await bindPath(
    "listen",
    path,
    checked,
    (bindTo) => Deno.listen({ transport: "unix", path: bindTo }),
    probeStream,
    (listener) => listener.close(),
  );
  const listener = new UnixListener(bound);
  if (checked.backlog !== undefined) {
    try {
      applyBacklog(bound.resource, checked.backlog, displayPath(bound.path));
    } catch (error) {
      listener.close();
      throw error;
    }
  }
  return listener;
}
