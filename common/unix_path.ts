/**
 * The life cycle of a unix socket path, shared by `unix.listen` (stream
 * sockets) and `udp.bindUnix` (datagram sockets): validation, parent
 * directories, stale paths left by crashed servers, permissions that are
 * never wider than asked, owners, and removal on close of only the file this
 * process created.
 *
 * How a filesystem path is bound: the socket is created under a private
 * temporary directory (mode 0700) next to the final path, its owner and mode
 * are set there, and it is hard-linked to the final path (which fails,
 * instead of clobbering, if something appeared there meanwhile). So the final
 * name never exists with wider permissions, and Deno's own unlink-on-close
 * hits the temporary name, leaving netkit to remove the final path only when
 * asked and only if it is still the same file (dev/ino).
 *
 * @module
 */

import { NetError, toNetError } from "./errors.ts";
import { invalidArgument, validateOptions } from "./options.ts";
import type { Schema } from "./options.ts";

/** The path options of `unix.listen`, `unix.serve` and `udp.bindUnix`. */
export interface UnixPathOptions {
  /** Permission bits of the socket file, 0..0o777 (default: `0o777 & ~umask`). */
  mode?: number;
  /** Numeric uid to give the socket file (chown after bind). */
  owner?: number;
  /** Numeric gid to give the socket file (chown after bind). */
  group?: number;
  /**
   * Remove a stale socket left at the path by a crashed server (default
   * true). A live server, or a path that is not a socket, is never removed.
   */
  unlink?: boolean;
  /** Remove the path on close, if it is still the file bound here (default true). */
  unlinkOnClose?: boolean;
  /** Create missing parent directories (default false). */
  mkdir?: boolean;
}

/** `validateOptions` rules for the six fields of {@linkcode UnixPathOptions}. */
export const UNIX_PATH_RULES: Schema = {
  mode: { type: "integer", min: 0, max: 0o777 },
  owner: { type: "integer", min: 0, max: 0xfffffffe },
  group: { type: "integer", min: 0, max: 0xfffffffe },
  unlink: { type: "boolean" },
  unlinkOnClose: { type: "boolean" },
  mkdir: { type: "boolean" },
};

const LINUX = Deno.build.os === "linux";

/** The longest filesystem socket path in bytes: 107 on Linux, 103 elsewhere. */
export const SUN_PATH_MAX: number = LINUX ? 107 : 103;

/** Abstract names may use the whole 108-byte `sun_path`, leading NUL included. */
const ABSTRACT_MAX = 108;

/** UTF-8 length without encoding (TextEncoder costs ~1 µs per short path). */
function byteLength(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) continue;
    if (unit < 0x800) {
      bytes += 1;
    } else if (
      unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length &&
      (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00
    ) {
      bytes += 2; // a surrogate pair: 2 units, 4 bytes
      i++;
    } else {
      bytes += 2; // 3 bytes (a lone surrogate becomes U+FFFD, also 3)
    }
  }
  return bytes;
}

/** Why `path` is not a usable socket path, or `undefined` when it is. */
function problemOf(
  path: unknown,
): { code: "invalid_argument" | "not_supported"; why: string } | undefined {
  if (typeof path !== "string") return { code: "invalid_argument", why: "a string" };
  if (path === "") return { code: "invalid_argument", why: "a non-empty path" };
  if (path[0] === "\0" || path[0] === "@") {
    if (!LINUX) {
      return { code: "not_supported", why: "a filesystem path (abstract names are Linux-only)" };
    }
    const name = path.slice(1);
    if (name === "") return { code: "invalid_argument", why: "a non-empty abstract name" };
    if (name.includes("\0")) {
      return {
        code: "invalid_argument",
        why: "an abstract name without NUL bytes after the first",
      };
    }
    if (byteLength(name) + 1 > ABSTRACT_MAX) {
      return {
        code: "invalid_argument",
        why: `an abstract name of at most ${ABSTRACT_MAX - 1} bytes`,
      };
    }
    return undefined;
  }
  if (path.includes("\0")) return { code: "invalid_argument", why: "a path without NUL bytes" };
  if (byteLength(path) > SUN_PATH_MAX) {
    return { code: "invalid_argument", why: `a path of at most ${SUN_PATH_MAX} bytes` };
  }
  return undefined;
}

/**
 * True when `value` is a usable unix socket path on this platform: a
 * non-empty string without NUL bytes of at most {@linkcode SUN_PATH_MAX}
 * bytes, or (Linux only) an abstract name with a leading `"\0"` or `"@"`.
 */
export function isPath(value: unknown): boolean {
  return problemOf(value) === undefined;
}

/**
 * Validates a socket path and returns the form Deno binds: `"@name"` becomes
 * the abstract `"\0name"`; relative paths are kept as given.
 *
 * @throws {NetError} `invalid_argument` naming `"path"`; `not_supported` for
 *   an abstract name off Linux.
 */
export function toSocketPath(op: string, path: unknown): string {
  const problem = problemOf(path);
  if (problem?.code === "not_supported") {
    throw new NetError("not_supported", `path must be ${problem.why} on ${Deno.build.os}`, {
      op,
      field: "path",
    });
  }
  if (problem) throw invalidArgument(op, "path", problem.why, path);
  const text = path as string;
  return text[0] === "@" ? "\0" + text.slice(1) : text;
}

/** A path as messages show it: abstract names with lsocket's `"@"`. */
function display(path: string): string {
  return path[0] === "\0" ? "@" + path.slice(1) : path;
}

/**
 * Tells a live socket at `path` from a stale file left by a crashed owner by
 * connecting as a stream: refused or missing → stale; accepted → alive (the
 * probe connection is closed at once, nothing is sent). `aliveOn` names the
 * other errors that still mean someone is there (a full backlog for a
 * stream server, "wrong type" for a datagram socket); anything else is
 * thrown, and the path is then left alone.
 */
export async function probeByConnect(
  path: string,
  aliveOn: (error: unknown) => boolean,
): Promise<"alive" | "stale"> {
  let conn: Deno.UnixConn;
  try {
    conn = await Deno.connect({ transport: "unix", path });
  } catch (error) {
    if (error instanceof Deno.errors.ConnectionRefused || error instanceof Deno.errors.NotFound) {
      return "stale";
    }
    if (aliveOn(error)) return "alive";
    throw error;
  }
  conn.close();
  return "alive";
}

/** A socket bound at a path, and the means to remove that path on close. */
export interface BoundPath<T> {
  /** What `bind()` returned. */
  readonly resource: T;
  /** The user's path (abstract names as `"\0name"`). */
  readonly path: string;
  /**
   * After the caller closed the resource: removes the path if
   * `unlinkOnClose` and it is still the file bound here (same dev/ino).
   * Returns whether it removed it. Idempotent.
   */
  release(): boolean;
}

function splitPath(path: string): { dir: string; prefix: string } {
  const slash = path.lastIndexOf("/");
  if (slash === -1) return { dir: ".", prefix: "" };
  if (slash === 0) return { dir: "/", prefix: "/" };
  return { dir: path.slice(0, slash), prefix: path.slice(0, slash + 1) };
}

function randomName(length: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(Math.ceil(length / 2)));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("").slice(0, length);
}

function isCode(error: unknown, name: string, errno: string): boolean {
  return error instanceof Error &&
    (error.name === name || (error as { code?: unknown }).code === errno);
}

async function lstatOrNull(path: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.lstat(path);
  } catch (error) {
    if (isCode(error, "NotFound", "ENOENT")) return null;
    throw error;
  }
}

function sameFile(a: Deno.FileInfo, b: Deno.FileInfo): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

function inUse(op: string, path: string, why: string): NetError {
  return new NetError("address_in_use", why, { op, address: display(path) });
}

/** Makes room at `path`: refuses live servers and non-sockets, removes stale sockets. */
async function clearPath(
  op: string,
  path: string,
  unlink: boolean,
  probe: (path: string) => Promise<"alive" | "stale">,
): Promise<void> {
  const found = await lstatOrNull(path);
  if (found === null) return;
  if (!unlink) {
    throw inUse(op, path, "the path exists (unlink: false leaves it alone)");
  }
  if (!found.isSocket) {
    throw inUse(op, path, "the path exists and is not a socket; netkit never removes it");
  }
  let state: "alive" | "stale";
  try {
    state = await probe(path);
  } catch (error) {
    throw new NetError("address_in_use", "the path exists and could not be probed", {
      op,
      address: display(path),
      cause: error,
    });
  }
  if (state === "alive") throw inUse(op, path, "a server is listening on this path");
  // Remove the stale socket only if nobody replaced it while we probed.
  const again = await lstatOrNull(path);
  if (again === null) return;
  if (!sameFile(found, again)) throw inUse(op, path, "the path was replaced while probing");
  try {
    await Deno.remove(path);
  } catch (error) {
    if (!isCode(error, "NotFound", "ENOENT")) throw error;
  }
}

/** The shortest private directory name worth using; below it we bind in place. */
const MIN_TEMP_NAME = 4;

/**
 * Binds a socket at `path` with the whole path life cycle: `mkdir`, stale
 * path removal (`unlink`, via `probe`), `owner`/`group`/`mode` set before
 * the final name exists, and dev/ino remembered for `release()`.
 *
 * @param op The operation, for errors (e.g. `"listen"`).
 * @param path The user's path (validated again here; `"@x"` → `"\0x"`).
 * @param options The {@linkcode UnixPathOptions} (other fields are ignored).
 * @param bind Creates the socket at the given path (maybe a temporary name).
 * @param probe Tells a live server at `path` from a stale socket file.
 * @param close Closes the resource when a later step fails.
 * @param inPlace Bind the final path directly (umask around the bind for
 *   `mode`) instead of through a temporary name. Datagram sockets need it:
 *   the kernel keeps the name a socket was bound under and reports it to
 *   receivers as the sender, so a temporary name would make replies fail;
 *   and Deno does not unlink datagram paths, so `unlinkOnClose: false` holds.
 * @throws {NetError} `invalid_argument`, `address_in_use`, `access_denied`,
 *   `not_found` (missing parent without `mkdir`), `not_supported`.
 */
export async function bindPath<T>(
  op: string,
  path: string,
  options: UnixPathOptions,
  bind: (bindPath: string) => T,
  probe: (path: string) => Promise<"alive" | "stale">,
  close: (resource: T) => void,
  inPlace = false,
): Promise<BoundPath<T>> {
  const socketPath = toSocketPath(op, path);
  const { mode, owner, group, unlink = true, unlinkOnClose = true, mkdir = false } =
    validateOptions<UnixPathOptions>(op, {
      mode: options?.mode,
      owner: options?.owner,
      group: options?.group,
      unlink: options?.unlink,
      unlinkOnClose: options?.unlinkOnClose,
      mkdir: options?.mkdir,
    }, UNIX_PATH_RULES);
  const address = display(socketPath);

  if (socketPath[0] === "\0") {
    for (const [field, value] of [["mode", mode], ["owner", owner], ["group", group]] as const) {
      if (value !== undefined) {
        throw new NetError(
          "invalid_argument",
          `${field} does not apply to an abstract name (it has no file); use a filesystem path`,
          { op, field },
        );
      }
    }
    let resource: T;
    try {
      resource = bind(socketPath);
    } catch (error) {
      throw toNetError(error, op, address);
    }
    return { resource, path: socketPath, release: () => false };
  }

  const { dir, prefix } = splitPath(socketPath);
  try {
    if (mkdir) await Deno.mkdir(dir, { recursive: true });
    await clearPath(op, socketPath, unlink, probe);
  } catch (error) {
    throw toNetError(error, op, address);
  }

  const room = SUN_PATH_MAX - byteLength(prefix) - "/s".length;
  const resource = room >= MIN_TEMP_NAME && !inPlace
    ? await bindViaTemp(
      op,
      socketPath,
      prefix,
      Math.min(room, 16),
      { mode, owner, group },
      bind,
      close,
    )
    : bindInPlace(
      op,
      socketPath,
      { mode, owner, group, unlinkOnClose: unlinkOnClose || inPlace },
      bind,
      close,
    );

  let identity: Deno.FileInfo | null = null;
  try {
    identity = await Deno.lstat(socketPath);
  } catch {
    // Gone already (someone removed it): release() then has nothing to remove.
  }
  let released = false;
  return {
    resource,
    path: socketPath,
    release(): boolean {
      if (released) return false;
      released = true;
      if (!unlinkOnClose || identity === null) return false;
      try {
        const now = Deno.lstatSync(socketPath);
        if (!sameFile(now, identity)) return false;
        Deno.removeSync(socketPath);
        return true;
      } catch {
        return false;
      }
    },
  };
}

interface Attributes {
  mode?: number;
  owner?: number;
  group?: number;
}

async function applyAttributes(path: string, attributes: Attributes): Promise<void> {
  if (attributes.owner !== undefined || attributes.group !== undefined) {
    await Deno.chown(path, attributes.owner ?? null, attributes.group ?? null);
  }
  if (attributes.mode !== undefined) await Deno.chmod(path, attributes.mode);
}

/** Binds under a private 0700 directory, sets owner and mode, links to the final name. */
async function bindViaTemp<T>(
  op: string,
  path: string,
  prefix: string,
  nameLength: number,
  attributes: Attributes,
  bind: (bindPath: string) => T,
  close: (resource: T) => void,
): Promise<T> {
  const address = display(path);
  let tempDir = "";
  for (let attempt = 0; tempDir === ""; attempt++) {
    const candidate = prefix + "." + randomName(nameLength - 1);
    try {
      await Deno.mkdir(candidate, { mode: 0o700 });
      tempDir = candidate;
    } catch (error) {
      if (!isCode(error, "AlreadyExists", "EEXIST") || attempt >= 8) {
        throw toNetError(error, op, address);
      }
    }
  }
  const tempPath = `${tempDir}/s`;
  let resource: T | undefined;
  try {
    resource = bind(tempPath);
    await applyAttributes(tempPath, attributes);
    try {
      await Deno.link(tempPath, path);
    } catch (error) {
      if (isCode(error, "AlreadyExists", "EEXIST")) {
        throw inUse(op, path, "another socket appeared at the path while binding");
      }
      throw error;
    }
    return resource;
  } catch (error) {
    if (resource !== undefined) {
      try {
        close(resource);
      } catch {
        // Cleaning up after the real failure, which is reported below.
      }
    }
    throw toNetError(error, op, address);
  } finally {
    await Deno.remove(tempDir, { recursive: true }).catch(() => {});
  }
}

/**
 * For paths too long to leave room for a private directory name: binds the
 * final name directly, with the umask narrowed around the (synchronous) bind
 * so the mode is never wider. Deno then unlinks the path on close itself, so
 * `unlinkOnClose: false` cannot be honoured.
 */
function bindInPlace<T>(
  op: string,
  path: string,
  attributes: Attributes & { unlinkOnClose: boolean },
  bind: (bindPath: string) => T,
  close: (resource: T) => void,
): T {
  const address = display(path);
  if (!attributes.unlinkOnClose) {
    throw new NetError(
      "not_supported",
      `unlinkOnClose: false needs ${MIN_TEMP_NAME + 2} spare bytes in the path ` +
        `(at most ${SUN_PATH_MAX} bytes) for a private temporary name; use a shorter directory`,
      { op, address, field: "unlinkOnClose" },
    );
  }
  let resource: T;
  try {
    if (attributes.mode === undefined) {
      resource = bind(path);
    } else {
      const previous = Deno.umask(0o777 & ~attributes.mode);
      try {
        resource = bind(path);
      } finally {
        Deno.umask(previous);
      }
    }
  } catch (error) {
    throw toNetError(error, op, address);
  }
  if (attributes.owner !== undefined || attributes.group !== undefined) {
    try {
      Deno.chownSync(path, attributes.owner ?? null, attributes.group ?? null);
    } catch (error) {
      try {
        close(resource);
      } catch {
        // The chown failure is what gets reported.
      }
      try {
        Deno.removeSync(path);
      } catch {
        // Deno's close already removed it.
      }
      throw toNetError(error, op, address);
    }
  }
  return resource;
}
