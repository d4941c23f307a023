/** Helpers for the unix tests: temp dirs, crashed servers, children under uid 65534. */

/** The unix module, as a file URL a child process can import. */
export const UNIX_MOD: string = new URL("../unix/mod.ts", import.meta.url).href;

/** True when tests may run children under another uid. */
export const IS_ROOT: boolean = Deno.uid() === 0;

/** A temp dir (removed on dispose); `open` makes it traversable by other users. */
export async function tempDir(open = false): Promise<AsyncDisposable & { path: string }> {
  const path = await Deno.makeTempDir({ prefix: "netkit-unix-" });
  if (open) await Deno.chmod(path, 0o777);
  return {
    path,
    async [Symbol.asyncDispose]() {
      await Deno.remove(path, { recursive: true });
    },
  };
}

/** Spawns `deno eval code ...args`; resolves once the child printed `ready`. */
export async function spawnReady(
  code: string,
  args: string[],
  extra: Partial<Deno.CommandOptions> = {},
): Promise<{ child: Deno.ChildProcess; rest: () => Promise<string> }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["eval", code, ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
    ...extra,
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  while (!seen.includes("ready\n")) {
    const { value, done } = await reader.read();
    if (done) {
      await child.status;
      throw new Error(`child ended before it was ready: ${seen}`);
    }
    seen += value;
  }
  const rest = async () => {
    let text = seen.slice(seen.indexOf("ready\n") + 6);
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return text;
      text += value;
    }
  };
  return { child, rest };
}

/** Leaves a stale socket file at `path`: a child listens there and is SIGKILLed. */
export async function crashedServer(path: string): Promise<void> {
  const { child, rest } = await spawnReady(
    `Deno.listen({ transport: "unix", path: Deno.args[0] }); console.log("ready"); setInterval(() => {}, 1000);`,
    [path],
  );
  child.kill("SIGKILL");
  await child.status;
  await rest();
}

/** The repository's root, whose modules a child under another uid gets a copy of. */
const ROOT = new URL("../", import.meta.url);

/** Why children under uid 65534 cannot run here (`null` when they can). */
function nobodyBlocker(): string | null {
  if (!IS_ROOT) return "the tests do not run as root";
  // The module copy goes to a temp dir and the child runs deno itself: both must be reachable.
  const temp = Deno.makeTempDirSync({ prefix: "netkit-probe-" });
  Deno.removeSync(temp);
  for (const path of [temp.slice(0, temp.lastIndexOf("/")), Deno.execPath()]) {
    let dir = Deno.realPathSync(path);
    for (;;) {
      if (((Deno.statSync(dir).mode ?? 0) & 0o001) === 0) {
        return `${dir} is not searchable by other users`;
      }
      if (dir === "/") break;
      dir = dir.slice(0, dir.lastIndexOf("/")) || "/";
    }
  }
  return null;
}

let blocker: string | null | undefined;

/** True (after saying why, once) when a test that runs a child as uid 65534 must be skipped. */
export function nobodyIgnored(): boolean {
  if (blocker === undefined) {
    blocker = nobodyBlocker();
    if (blocker !== null && IS_ROOT) console.warn(`skipping the uid 65534 tests: ${blocker}`);
  }
  return blocker !== null;
}

/**
 * Copies the repository modules `entry` imports (its whole graph) into
 * `into`, world-readable, keeping their layout, so a child under another uid
 * can import them even from a private checkout; returns the copy's URL.
 */
async function readableCopy(entry: string, into: string): Promise<string> {
  const info = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", new URL(entry, ROOT).href],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!info.success) throw new Error(`deno info failed: ${new TextDecoder().decode(info.stderr)}`);
  const graph = JSON.parse(new TextDecoder().decode(info.stdout)) as {
    modules: { specifier: string }[];
  };
  for (const { specifier } of graph.modules) {
    if (specifier.startsWith("node:")) continue;
    if (!specifier.startsWith(ROOT.href)) {
      throw new Error(
        `${specifier} is not a repository module; a child under uid 65534 has no cache`,
      );
    }
    const relative = decodeURIComponent(specifier.slice(ROOT.href.length));
    const target = `${into}/${relative}`;
    const parent = target.slice(0, target.lastIndexOf("/"));
    await Deno.mkdir(parent, { recursive: true });
    for (let dir = parent; dir.length >= into.length; dir = dir.slice(0, dir.lastIndexOf("/"))) {
      await Deno.chmod(dir, 0o755);
    }
    await Deno.copyFile(new URL(specifier), target);
    await Deno.chmod(target, 0o644);
  }
  return new URL(entry, `file://${into}/`).href;
}

/**
 * Runs the ES module body `code(unixMod)` with `deno eval` as uid/gid 65534
 * and resolves with its stdout. `unixMod` is the URL of a world-readable
 * copy of the unix module (or of `entry`), since the checkout may be
 * private to its owner.
 */
export async function runAsNobody(
  code: (unixMod: string) => string,
  args: string[],
  cwd: string,
  entry = "unix/mod.ts",
): Promise<string> {
  const denoDir = `${cwd}/.deno-dir`;
  await Deno.mkdir(denoDir, { recursive: true });
  await Deno.chown(denoDir, 65534, 65534);
  const sources = await Deno.makeTempDir({ prefix: "netkit-src-" });
  try {
    await Deno.chmod(sources, 0o755);
    const unixMod = await readableCopy(entry, sources);
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["eval", code(unixMod), ...args],
      cwd,
      uid: 65534,
      gid: 65534,
      env: { DENO_DIR: denoDir, HOME: cwd, NO_COLOR: "1" },
      clearEnv: true,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(output.stdout);
    if (!output.success) {
      throw new Error(`child failed: ${stdout}${new TextDecoder().decode(output.stderr)}`);
    }
    return stdout.trim();
  } finally {
    await Deno.remove(sources, { recursive: true });
  }
}

export { rejectsWith } from "./_helpers.ts";

/** True when something exists at `path` (without following symlinks). */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** A `deno eval` child spoken to in lines: `send` writes one, `line` reads the next. */
export class LineChild implements AsyncDisposable {
  #child: Deno.ChildProcess;
  #writer: WritableStreamDefaultWriter<Uint8Array>;
  #reader: ReadableStreamDefaultReader<string>;
  #buffer = "";

  private constructor(child: Deno.ChildProcess) {
    this.#child = child;
    this.#writer = child.stdin.getWriter();
    this.#reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  }

  /** Spawns `deno eval code ...args` and waits for its `ready` line. */
  static spawn(code: string, args: string[]): Promise<LineChild> {
    return LineChild.start(["eval", code, ...args]);
  }

  /** Spawns `deno ...args` (in `cwd`) and waits for its `ready` line. */
  static async start(args: string[], cwd?: string): Promise<LineChild> {
    const child = new Deno.Command(Deno.execPath(), {
      args,
      cwd,
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
    }).spawn();
    const spoken = new LineChild(child);
    const first = await spoken.line().catch(async (error) => {
      await spoken[Symbol.asyncDispose]();
      throw error;
    });
    if (first !== "ready") {
      await spoken[Symbol.asyncDispose]();
      throw new Error(`child said ${JSON.stringify(first)}, not ready`);
    }
    return spoken;
  }

  /** Writes one line to the child's stdin. */
  async send(line: string): Promise<void> {
    await this.#writer.write(new TextEncoder().encode(line + "\n"));
  }

  /** The child's next stdout line; throws if it ended first. */
  async line(): Promise<string> {
    for (;;) {
      const end = this.#buffer.indexOf("\n");
      if (end !== -1) {
        const line = this.#buffer.slice(0, end);
        this.#buffer = this.#buffer.slice(end + 1);
        return line;
      }
      const { value, done } = await this.#reader.read();
      if (done) throw new Error(`child ended mid-line: ${JSON.stringify(this.#buffer)}`);
      this.#buffer += value;
    }
  }

  /** Closes stdin (the child then ends) and waits for it. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.#writer.close().catch(() => {});
    for (;;) {
      const { done } = await this.#reader.read();
      if (done) break;
    }
    await this.#child.status;
  }
}
