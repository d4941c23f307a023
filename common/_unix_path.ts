/**
 * The life cycle of a unix socket path, shared by `unix.listen` (stream
 * sockets) and `udp.bindUnix` (datagram sockets): validation, parent
 * directories, stale paths left by crashed servers, permissions that are
 * never wider than asked, owners, and removal on close of only the file this
 * process created.
 *
 * How a filesystem path is bound: binders of one path take an exclusive
 * lock on its private directory `<dir>/.<name>.netkit-bind` (mode 0700,
 * named after the path so a scoped permission grant can name it too), so
 * only one of them at a time looks at the path, moves a stale socket away,
 * and links its own. The socket is created in that directory as `s`, its
 * owner and mode are set there, and it is hard-linked to the final path
 * (which fails, instead of clobbering, if something appeared there). So the
 * final name never exists with wider permissions, and Deno's own
 * unlink-on-close hits the temporary name, leaving netkit to remove the
 * final path only when asked and only if it is still the same file (dev/ino).
 *
 * @module
 */

import type { UnixPathOptions } from "./unix_path.ts";
import { NetError } from "./errors.ts";
import { toNetError } from "./_errors.ts";
import { invalidArgument, validateOptions } from "./_options.ts";
import type { Schema } from "./_options.ts";

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

/** A socket path as messages show it: abstract names with a leading `"@"`. */
export function displayPath(path: string): string {
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
   * Removes the path if `unlinkOnClose` and it is still the file bound here
   * (same dev/ino); returns whether it removed it. Idempotent. Call it
   * before closing the resource: while the socket is alive no contender
   * deems the path stale, so the file checked is the file removed.
   */
  release(): boolean;
  /**
   * False when the runtime itself removes the path when the socket closes
   * (a stream socket bound in place), so {@linkcode BoundPath.keep} cannot
   * keep it. Absent: true.
   */
  readonly keepable?: boolean;
  /** Makes `release()` leave the path: the socket lives on elsewhere (handed to a child). */
  keep?(): void;
}

/** The bound path of each path-bound socket object (for a hand-over to a child). */
export const boundPaths: WeakMap<object, BoundPath<unknown>> = new WeakMap();

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

const isNotFound = (error: unknown): boolean => isCode(error, "NotFound", "ENOENT");

async function lstatOrNull(path: string): Promise<Deno.FileInfo | null> {
  try {
    return await Deno.lstat(path);
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
}

function sameInode(a: Deno.FileInfo, b: Deno.FileInfo): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

/**
 * The same socket file: dev/ino, and the times that link and rename leave
 * alone, since a deleted file's inode number is soon reused.
 */
function sameFile(a: Deno.FileInfo, b: Deno.FileInfo): boolean {
  return sameInode(a, b) && a.mtime?.getTime() === b.mtime?.getTime() &&
    a.birthtime?.getTime() === b.birthtime?.getTime();
}

function inUse(op: string, path: string, why: string): NetError {
  return new NetError("address_in_use", why, { op, address: displayPath(path) });
}

/** What the private directory next to `<dir>/<name>` is called: `<dir>/.<name>.netkit-bind`. */
const BIND_DIR_SUFFIX = ".netkit-bind";
/** The socket's name inside the private directory while it is bound, before the link. */
const SOCKET_NAME = "s";
/** Where a stale socket file is moved to be identified before it is deleted. */
const HOLD_NAME = "stale";

/**
 * The private directory of a socket path, `<dir>/.<name>.netkit-bind`:
 * derived from the path alone so a permission grant can name it.
 */
export function bindDirOf(path: string): string {
  const { prefix } = splitPath(path);
  return `${prefix}.${path.slice(prefix.length)}${BIND_DIR_SUFFIX}`;
}

function inTheWay(op: string, path: string, dir: string, info: Deno.FileInfo): NetError {
  const what = info.isSymlink ? "a symbolic link" : "not a directory";
  return inUse(op, path, `${dir} is in the way (${what}); netkit never removes it`);
}

/** How many times a contender re-takes a lock directory that its holder removed. */
const LOCK_ATTEMPTS = 256;
/** How many binds are tried when another socket's close unlinks the temporary name. */
const BIND_ATTEMPTS = 8;

/**
 * The private directory next to a socket path, held with an exclusive
 * `flock` by one contender (of any process) while it changes the path.
 *
 * Why this makes the path's owner certain: every netkit binder of the path
 * takes this lock before it looks at the path and holds it until its socket
 * is linked there, so "the path is stale", "move it away", "link mine" is
 * one step among them; the lock is released by the kernel when a holder
 * dies, so a crash leaves no lock behind. The holder removes the directory
 * before letting go; a waiter that then wins the old directory's lock sees
 * that the name now leads elsewhere (dev/ino) and takes the new one, so two
 * holders never overlap. A live listener removes its path before it stops
 * listening (see `BoundPath.release`), so no holder ever sees it stale.
 */
class PathLock {
  readonly dir: string;
  readonly info: Deno.FileInfo;
  #file: Deno.FsFile;

  private constructor(dir: string, info: Deno.FileInfo, file: Deno.FsFile) {
    this.dir = dir;
    this.info = info;
    this.#file = file;
  }

  static async take(op: string, path: string, dir: string): Promise<PathLock> {
    for (let attempt = 0; attempt < LOCK_ATTEMPTS; attempt++) {
      try {
        await Deno.mkdir(dir, { mode: 0o700 });
      } catch (error) {
        if (!isCode(error, "AlreadyExists", "EEXIST")) throw error;
      }
      // Opening follows links and a FIFO would block: only a directory is opened.
      const before = await lstatOrNull(dir);
      if (before !== null && !before.isDirectory) throw inTheWay(op, path, dir, before);
      let file: Deno.FsFile;
      try {
        file = await Deno.open(dir, { read: true });
      } catch (error) {
        if (isNotFound(error)) continue; // its holder removed it between our mkdir and open
        throw error;
      }
      try {
        await file.lock(true);
        const held = await file.stat();
        const now = await lstatOrNull(dir);
        if (now !== null && !now.isDirectory) throw inTheWay(op, path, dir, now);
        if (now !== null && sameInode(held, now)) {
          const lock = new PathLock(dir, now, file);
          await lock.#clearLeftovers(op, path);
          return lock;
        }
      } catch (error) {
        file.close();
        throw error;
      }
      file.close(); // its holder removed it before letting go: lock the directory now there
    }
    throw inUse(op, path, `${dir} kept being replaced by other binders; too many at once`);
  }

  /** A holder that died mid-way may have left its temporary socket names. */
  async #clearLeftovers(op: string, path: string): Promise<void> {
    for (const name of [SOCKET_NAME, HOLD_NAME]) {
      const left = await lstatOrNull(`${this.dir}/${name}`);
      if (left === null) continue;
      if (!left.isSocket) {
        throw inUse(op, path, `${this.dir}/${name} is not a socket; netkit never removes it`);
      }
      await Deno.remove(`${this.dir}/${name}`);
    }
  }

  /** Removes the directory (so the next holder re-creates it), then lets go. */
  async drop(): Promise<void> {
    await Deno.remove(`${this.dir}/${SOCKET_NAME}`).catch(() => {});
    // Fails only when a replaced file had to be kept in it (see takeStale).
    await Deno.remove(this.dir).catch(() => {});
    this.#file.close();
  }
}

async function probeState(
  op: string,
  path: string,
  probe: (path: string) => Promise<"alive" | "stale">,
): Promise<"alive" | "stale"> {
  try {
    return await probe(path);
  } catch (error) {
    throw new NetError("address_in_use", "the path exists and could not be probed", {
      op,
      address: displayPath(path),
      cause: error,
    });
  }
}

/**
 * Makes room at `path`: refuses live servers and non-sockets; with `lock`
 * held, also takes a stale socket away (without it, only checks).
 */
async function clearPath(
  op: string,
  path: string,
  unlink: boolean,
  probe: (path: string) => Promise<"alive" | "stale">,
  lock?: PathLock,
): Promise<void> {
  const found = await lstatOrNull(path);
  if (found === null) return;
  if (!unlink) {
    throw inUse(op, path, "the path exists (unlink: false leaves it alone)");
  }
  if (!found.isSocket) {
    throw inUse(op, path, "the path exists and is not a socket; netkit never removes it");
  }
  if (await probeState(op, path, probe) === "alive") {
    throw inUse(op, path, "a server is listening on this path");
  }
  if (lock !== undefined) await takeStale(op, path, found, `${lock.dir}/${HOLD_NAME}`);
}

/**
 * Deletes the stale file `found` from `path`, and no other file: it is
 * renamed into the locked private directory first (atomic: exactly what is
 * at the path at that instant moves), then identified by dev/ino; only the
 * stale file is deleted. Anything else (another program replaced it, since
 * netkit binders hold the lock) is linked back, which never clobbers.
 */
async function takeStale(
  op: string,
  path: string,
  found: Deno.FileInfo,
  hold: string,
): Promise<void> {
  try {
    await Deno.rename(path, hold);
  } catch (error) {
    if (isNotFound(error)) return; // gone already: the path is free
    throw error;
  }
  const taken = await Deno.lstat(hold);
  if (sameFile(taken, found)) {
    await Deno.remove(hold);
    return;
  }
  try {
    await Deno.link(hold, path);
  } catch (error) {
    if (isCode(error, "AlreadyExists", "EEXIST")) {
      throw inUse(
        op,
        path,
        `the path was replaced while probing and taken again; the replaced file is kept at ${hold}`,
      );
    }
    throw error;
  }
  await Deno.remove(hold);
  throw inUse(op, path, "the path was replaced while probing");
}

/** The shortest random private directory name worth using; below it we bind in place. */
const MIN_TEMP_NAME = 4;

/** How the socket file gets its name; decides which permissions a scoped run needs. */
type Scheme = "lock-dir" | "random-dir" | "in-place";

/** `path` made absolute (permission flags need it), or as given if the cwd is unknown. */
function absolute(path: string): string {
  if (path[0] === "/") return path;
  try {
    return `${Deno.cwd()}/${path}`;
  } catch {
    return path;
  }
}

/** The `--allow-*` flags a run scoped to this one socket needs, for permission errors. */
function scopedFlags(
  given: string,
  scheme: Scheme,
  mode: number | undefined,
  mkdir: boolean,
): string {
  const path = absolute(given);
  const dir = bindDirOf(path);
  const parent = splitPath(path).dir;
  if (scheme === "random-dir") {
    return `--allow-read=${parent} --allow-write=${parent} --allow-net (the bind name of a ` +
      `path this long is random, so net access cannot be scoped)`;
  }
  const write = mkdir ? parent : `${path},${dir}`; // mkdir needs the parent, which covers both
  const files = `--allow-read=${path},${dir} --allow-write=${write}`;
  if (scheme === "lock-dir") return `${files} --allow-net=unix:${path},unix:${dir}/${SOCKET_NAME}`;
  return `${files} --allow-net=unix:${path}${mode === undefined ? "" : " --allow-sys"}`;
}

/** A permission refusal, with the flags that would scope the grant to this socket. */
function withFlags(error: NetError, flags: string): NetError {
  if (!(error.cause instanceof Deno.errors.NotCapable)) return error;
  return new NetError(
    "access_denied",
    `${error.detail}; a run scoped to this socket needs ${flags}`,
    { op: error.op, address: error.address, cause: error.cause },
  );
}

/**
 * Binds a socket at `path` with the whole path life cycle: `mkdir`, stale
 * path removal (`unlink`, via `probe`), `owner`/`group`/`mode` set before
 * the final name exists, and dev/ino remembered for `release()`. Concurrent
 * binders of one path (in this or other processes) are serialised by
 * {@linkcode PathLock}: exactly one gets the path, the others
 * `address_in_use`.
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
  const address = displayPath(socketPath);

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
    return { resource, path: socketPath, release: () => false, keepable: true, keep() {} };
  }

  const { dir, prefix } = splitPath(socketPath);
  const lockDir = bindDirOf(socketPath);
  const room = SUN_PATH_MAX - byteLength(prefix) - "/s".length;
  const scheme: Scheme = inPlace
    ? "in-place"
    : byteLength(lockDir) + 1 + SOCKET_NAME.length <= SUN_PATH_MAX
    ? "lock-dir"
    : room >= MIN_TEMP_NAME
    ? "random-dir"
    : "in-place";
  const attributes = { mode, owner, group };
  let lock: PathLock | undefined;
  let resource: T;
  let identity: Deno.FileInfo | null = null;
  try {
    if (mkdir) await Deno.mkdir(dir, { recursive: true });
    // Refusing a live server or a non-socket changes nothing, so it needs no lock.
    await clearPath(op, socketPath, unlink, probe);
    lock = await PathLock.take(op, socketPath, lockDir);
    await clearPath(op, socketPath, unlink, probe, lock);
    resource = scheme === "lock-dir"
      ? await bindInLockDir(op, socketPath, lock, attributes, bind, close)
      : scheme === "random-dir"
      ? await bindViaTemp(op, socketPath, prefix, Math.min(room, 16), attributes, bind, close)
      : bindInPlace(
        op,
        socketPath,
        { ...attributes, unlinkOnClose: unlinkOnClose || inPlace },
        bind,
        close,
      );
    // Still under the lock: what is at the path now is the file just bound.
    identity = await lstatOrNull(socketPath);
  } catch (error) {
    throw withFlags(toNetError(error, op, address), scopedFlags(socketPath, scheme, mode, mkdir));
  } finally {
    await lock?.drop();
  }

  // A stream socket bound in place is unlinked by Deno itself on close.
  const removable = unlinkOnClose && identity !== null && (inPlace || scheme !== "in-place");
  let released = false;
  return {
    resource,
    path: socketPath,
    // Deno unlinks the path of a stream socket it bound in place when it closes it.
    keepable: inPlace || scheme !== "in-place",
    keep(): void {
      released = true;
    },
    release(): boolean {
      if (released) return false;
      released = true;
      if (!removable) return false;
      try {
        const now = Deno.lstatSync(socketPath);
        if (!sameFile(now, identity!)) return false;
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

/** Links the bound temporary name to the final path, which fails instead of clobbering. */
async function linkInto(op: string, tempPath: string, path: string): Promise<void> {
  try {
    await Deno.link(tempPath, path);
  } catch (error) {
    if (isCode(error, "AlreadyExists", "EEXIST")) {
      throw inUse(op, path, "another socket appeared at the path while binding");
    }
    throw error;
  }
}

/**
 * Binds as `<private dir>/s` in the locked directory (mode 0700, ours),
 * sets owner and mode there, links to the final name. Deno unlinks the name
 * a listener was bound at when it closes, which may be this same temporary
 * name now in use by the next holder: a step that finds it gone binds again.
 */
async function bindInLockDir<T>(
  op: string,
  path: string,
  lock: PathLock,
  attributes: Attributes,
  bind: (bindPath: string) => T,
  close: (resource: T) => void,
): Promise<T> {
  if ((lock.info.mode! & 0o077) !== 0) await Deno.chmod(lock.dir, 0o700);
  const tempPath = `${lock.dir}/${SOCKET_NAME}`;
  for (let attempt = 1;; attempt++) {
    const resource = bind(tempPath);
    try {
      // A directory left by another user would let them reach the socket before its mode is set.
      const bound = await Deno.lstat(tempPath);
      if (bound.uid !== lock.info.uid) {
        throw new NetError(
          "access_denied",
          `${lock.dir} belongs to another user (uid ${lock.info.uid}); remove it`,
          { op, address: displayPath(path) },
        );
      }
      await applyAttributes(tempPath, attributes);
      await linkInto(op, tempPath, path);
      return resource;
    } catch (error) {
      try {
        close(resource);
      } catch {
        // Cleaning up after the real failure, which is reported below.
      }
      if (!isNotFound(error) || attempt >= BIND_ATTEMPTS) throw error;
    }
  }
}

/**
 * For paths too long for the private directory's socket name: binds under
 * a random 0700 directory, sets owner and mode, links to the final name.
 */
async function bindViaTemp<T>(
  op: string,
  path: string,
  prefix: string,
  nameLength: number,
  attributes: Attributes,
  bind: (bindPath: string) => T,
  close: (resource: T) => void,
): Promise<T> {
  const address = displayPath(path);
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
    await linkInto(op, tempPath, path);
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
  const address = displayPath(path);
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
