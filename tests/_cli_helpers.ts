/** Helpers of the cli tests: `nk` and its peers (python3, socat, curl, nc) as real processes. */

const ROOT = new URL("..", import.meta.url).pathname;
const CLI = new URL("../cli/mod.ts", import.meta.url).pathname;

/** The deno arguments that run `nk` as a user runs it from a checkout (`deno task nk`). */
export function nkCommand(args: string[], permissions: string[] = ["-A"]): string[] {
  return ["run", "--no-prompt", ...permissions, CLI, ...args];
}

/** What a finished process said. */
export interface Finished {
  code: number;
  signal: Deno.Signal | null;
  stdout: string;
  stderr: string;
}

/** Whether a program is on PATH. */
export function have(program: string): boolean {
  try {
    return new Deno.Command("sh", {
      args: ["-c", `command -v ${program}`],
      stdout: "null",
      stderr: "null",
    }).outputSync().success;
  } catch {
    return false;
  }
}

/**
 * A running process whose stdout and stderr are collected as text; tests
 * wait for what it prints (never for time) and send it input or signals.
 */
export class Proc implements AsyncDisposable {
  readonly child: Deno.ChildProcess;
  #text = { stdout: "", stderr: "" };
  #changed: () => void = () => {};
  #ended = { stdout: false, stderr: false };
  #reading: Promise<void>;
  #writer: WritableStreamDefaultWriter<Uint8Array> | undefined;
  #status: Deno.CommandStatus | undefined;

  constructor(program: string, args: string[], options: { stdin?: boolean; cwd?: string } = {}) {
    this.child = new Deno.Command(program, {
      args,
      cwd: options.cwd ?? ROOT,
      stdin: options.stdin ? "piped" : "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    if (options.stdin) this.#writer = this.child.stdin.getWriter();
    this.#reading = Promise.all([
      this.#collect("stdout", this.child.stdout),
      this.#collect("stderr", this.child.stderr),
    ]).then(() => {});
    this.child.status.then((status) => this.#status = status);
  }

  /** `nk ARGS` (with `-A` unless `permissions` are given). */
  static nk(args: string[], options: { stdin?: boolean; permissions?: string[] } = {}): Proc {
    return new Proc(Deno.execPath(), nkCommand(args, options.permissions), options);
  }

  async #collect(name: "stdout" | "stderr", stream: ReadableStream<Uint8Array>): Promise<void> {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      this.#text[name] += text;
      this.#changed();
    }
    this.#ended[name] = true;
    this.#changed();
  }

  /** Everything printed on `name` so far. */
  text(name: "stdout" | "stderr"): string {
    return this.#text[name];
  }

  /** Waits until `pattern` matches what `name` printed; throws if the stream ends first. */
  async waitFor(name: "stdout" | "stderr", pattern: RegExp): Promise<RegExpExecArray> {
    for (;;) {
      const match = pattern.exec(this.#text[name]);
      if (match) return match;
      if (this.#ended[name]) {
        throw new Error(
          `${name} ended without ${pattern}: ${JSON.stringify(this.#text)} (status ${
            JSON.stringify(this.#status)
          })`,
        );
      }
      await new Promise<void>((resolve) => this.#changed = resolve);
    }
  }

  /** Waits until `pattern` (a /g regex) matched `count` times on `name`. */
  async waitForCount(name: "stdout" | "stderr", pattern: RegExp, count: number): Promise<void> {
    for (;;) {
      if ((this.#text[name].match(pattern)?.length ?? 0) >= count) return;
      if (this.#ended[name]) {
        throw new Error(
          `${name} ended with fewer than ${count} of ${pattern}: ${this.#text[name]}`,
        );
      }
      await new Promise<void>((resolve) => this.#changed = resolve);
    }
  }

  /** The port in `nk -v`'s "listening on" line. */
  async listeningPort(): Promise<number> {
    return Number((await this.waitFor("stderr", /listening on \S+:(\d+)\n/))[1]);
  }

  /** Writes to stdin. */
  async write(data: string | Uint8Array): Promise<void> {
    await this.#writer!.write(typeof data === "string" ? new TextEncoder().encode(data) : data);
  }

  /** Closes stdin (end of input for the process). */
  async closeStdin(): Promise<void> {
    if (this.#writer === undefined) return;
    const writer = this.#writer;
    this.#writer = undefined;
    await writer.close().catch(() => {});
  }

  /** Sends a signal. */
  kill(signal: Deno.Signal): void {
    this.child.kill(signal);
  }

  /** Waits for the exit and everything it printed. */
  async done(): Promise<Finished> {
    const status = await this.child.status;
    await this.#reading;
    await this.closeStdin();
    return {
      code: status.code,
      signal: status.signal,
      stdout: this.#text.stdout,
      stderr: this.#text.stderr,
    };
  }

  /** Kills it if it still runs, then reaps it. */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this.#status === undefined) {
      try {
        this.child.kill("SIGKILL");
      } catch {
        // Exited in between.
      }
    }
    await this.done();
  }
}

/** Runs `nk ARGS` to completion with `input` on stdin (none: /dev/null). */
export async function nk(
  args: string[],
  options: { input?: string | Uint8Array; permissions?: string[] } = {},
): Promise<Finished> {
  const proc = Proc.nk(args, { stdin: options.input !== undefined, ...options });
  if (options.input !== undefined) {
    // nk may end without reading its input (a bad address): its result tells, not the write.
    await proc.write(options.input).catch(() => {});
    await proc.closeStdin();
  }
  return await proc.done();
}

/** Runs a program to completion with `input` on stdin. */
export async function runProgram(
  program: string,
  args: string[],
  input?: string,
): Promise<Finished> {
  const proc = new Proc(program, args, { stdin: input !== undefined });
  if (input !== undefined) {
    // A program may end without reading its input: its result tells, not the write.
    await proc.write(input).catch(() => {});
    await proc.closeStdin();
  }
  return await proc.done();
}

/**
 * A python3 TCP (or, with `unixPath`, unix) server for one connection: it
 * reads to end of stream, then replies `got N bytes: <input upper-cased>`
 * and closes. Its first stdout line is its port (or `ready`).
 */
export const HALF_CLOSE_SERVER = `
import socket, sys
if len(sys.argv) > 1:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(sys.argv[1])
    s.listen(1)
    print("ready", flush=True)
else:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    s.listen(1)
    print(s.getsockname()[1], flush=True)
c, _ = s.accept()
data = b""
while True:
    chunk = c.recv(65536)
    if not chunk:
        break
    data += chunk
c.sendall(b"got %d bytes: " % len(data) + data.upper())
c.close()
s.close()
`;

/** Starts {@linkcode HALF_CLOSE_SERVER}; resolves once it listens, with its port. */
export async function halfCloseServer(unixPath?: string): Promise<{ proc: Proc; port: number }> {
  const proc = new Proc("python3", [
    "-u",
    "-c",
    HALF_CLOSE_SERVER,
    ...(unixPath ? [unixPath] : []),
  ]);
  const line = (await proc.waitFor("stdout", /^(\S+)\n/))[1];
  return { proc, port: line === "ready" ? 0 : Number(line) };
}

/** Random bytes (any length; getRandomValues takes 64 KiB at a time). */
export function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let at = 0; at < n; at += 65536) crypto.getRandomValues(out.subarray(at, at + 65536));
  return out;
}
