/**
 * Helpers of the descriptor-adoption tests: a child started with sockets
 * already open at fd 3 and 4 (python3 makes them and passes them with
 * `pass_fds`, as a service manager or inetd would), its output line by
 * line, and counting this process's descriptors.
 */

/** The child script the adoption tests run. */
export const CHILD = new URL("./_fdopen_child.ts", import.meta.url).pathname;
const ROOT = new URL("..", import.meta.url).pathname;

/**
 * python3 side: makes the sockets its arguments describe, moves them to fd
 * 3, 4, …, prints what it made as one JSON line, runs the command with them
 * (and nothing else) inherited, closes its own copies, and exits with the
 * command's status.
 *
 * A socket is `tcp-listen`, `unix-listen:<path>`, `tcp-connect:<port>` or
 * `unix-connect:<path>`; then `--`, then the command.
 */
const PYTHON = String.raw`
import json, os, socket, subprocess, sys
args = sys.argv[1:]
split = args.index("--")
specs, command = args[:split], args[split + 1:]
made = []
for spec in specs:
    kind, _, arg = spec.partition(":")
    if kind == "tcp-listen":
        s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(16)
        made.append((s, {"kind": kind, "port": s.getsockname()[1]}))
    elif kind == "unix-listen":
        s = socket.socket(socket.AF_UNIX); s.bind(arg); s.listen(16)
        made.append((s, {"kind": kind, "path": arg}))
    elif kind == "tcp-connect":
        s = socket.create_connection(("127.0.0.1", int(arg)))
        made.append((s, {"kind": kind, "local": s.getsockname()[1]}))
    elif kind == "unix-connect":
        s = socket.socket(socket.AF_UNIX); s.connect(arg)
        made.append((s, {"kind": kind, "path": arg}))
high = [os.dup(s.fileno()) for s, _ in made]
for s, _ in made:
    s.close()
for i, fd in enumerate(high):
    os.dup2(fd, 100 + i)
    os.close(fd)
targets = []
for i in range(len(high)):
    os.dup2(100 + i, 3 + i)
    os.close(100 + i)
    targets.append(3 + i)
print(json.dumps([info for _, info in made]), flush=True)
child = subprocess.Popen(command, pass_fds=targets)
for fd in targets:
    os.close(fd)
sys.exit(child.wait())
`;

/** A running child and its output lines. */
export interface Passing extends AsyncDisposable {
  /** What python3 made, in fd order. */
  made: { kind: string; port?: number; path?: string; local?: number }[];
  /** The next line the child prints, parsed as JSON. */
  next(): Promise<Record<string, unknown>>;
  /** Waits for the exit; resolves with the status and stderr. */
  done(): Promise<{ code: number; stderr: string }>;
}

/**
 * Starts `command` with sockets at fd 3 on (see {@linkcode PYTHON}).
 *
 * @param specs The sockets to make and pass.
 * @param command The command to run with them (after `sh -c`, when given as a string).
 */
export async function passing(specs: string[], command: string[]): Promise<Passing> {
  const child = new Deno.Command("python3", {
    args: ["-c", PYTHON, ...specs, "--", ...command],
    cwd: ROOT,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const stderr = new Response(child.stderr).text();
  let pending = "";
  let ended = false;
  const line = async (): Promise<string> => {
    for (;;) {
      const at = pending.indexOf("\n");
      if (at !== -1) {
        const out = pending.slice(0, at);
        pending = pending.slice(at + 1);
        return out;
      }
      if (ended) throw new Error(`the child ended; stderr: ${await stderr}`);
      const { value, done } = await reader.read();
      if (done) ended = true;
      else pending += value;
    }
  };
  const made = JSON.parse(await line());
  let status: Promise<{ code: number; stderr: string }> | undefined;
  const done = () =>
    status ??= (async () => {
      while (!ended) {
        const { done } = await reader.read();
        if (done) ended = true;
      }
      const { code } = await child.status;
      return { code, stderr: await stderr };
    })();
  return {
    made,
    next: async () => JSON.parse(await line()),
    done,
    async [Symbol.asyncDispose]() {
      try {
        child.kill("SIGKILL");
      } catch {
        // already exited
      }
      await done();
    },
  };
}

/** `deno run -A` of the child script in `mode`. */
export function denoChild(mode: string, flags = ["-A"]): string[] {
  return [Deno.execPath(), "run", ...flags, CHILD, mode];
}

/** How many descriptors this process has open. */
export function openDescriptors(): number {
  let count = 0;
  for (const _ of Deno.readDirSync("/proc/self/fd")) count++;
  return count;
}

/** The descriptor of ours whose link is `target` (a path), or `undefined`. */
export function descriptorOf(target: string): number | undefined {
  for (const entry of Deno.readDirSync("/proc/self/fd")) {
    try {
      if (Deno.readLinkSync(`/proc/self/fd/${entry.name}`) === target) return Number(entry.name);
    } catch {
      // closed meanwhile (the directory listing's own descriptor)
    }
  }
  return undefined;
}

/** Whether descriptor `fd` is open in this process. */
export function isOpen(fd: number): boolean {
  try {
    Deno.readLinkSync(`/proc/self/fd/${fd}`);
    return true;
  } catch {
    return false;
  }
}

/** A descriptor number that is not open here (the lowest free one from 200). */
export function freeDescriptor(): number {
  let fd = 200;
  while (isOpen(fd)) fd++;
  return fd;
}

/** The C library's open/close/pipe for making descriptors netkit does not own. */
export function libc() {
  const lib = Deno.dlopen("libc.so.6", {
    open: { parameters: ["buffer", "i32"], result: "i32" },
    close: { parameters: ["i32"], result: "i32" },
    pipe: { parameters: ["buffer"], result: "i32" },
  });
  return {
    open(path: string, flags: number): number {
      return lib.symbols.open(new TextEncoder().encode(path + "\0"), flags);
    },
    close(fd: number): number {
      return lib.symbols.close(fd);
    },
    pipe(): [number, number] {
      const fds = new Int32Array(2);
      if (lib.symbols.pipe(new Uint8Array(fds.buffer)) !== 0) throw new Error("pipe failed");
      return [fds[0], fds[1]];
    },
    [Symbol.dispose]() {
      lib.close();
    },
  };
}

/** open(2) flags (Linux). */
export const O_RDONLY = 0;
export const O_RDWR = 2;
export const O_DIRECTORY = 0o200000;

/** `sh -c` of a command line with the child script (for `LISTEN_PID=$$ exec …`). */
export function shell(line: string): string[] {
  return ["sh", "-c", line];
}

/** The child's `deno run -A` command line, quoted for `sh`. */
export function childLine(mode: string): string {
  return `'${Deno.execPath()}' run -A '${CHILD}' ${mode}`;
}
