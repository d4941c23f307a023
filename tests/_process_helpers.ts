/** Helpers shared by the process tests. */

/** Decodes bytes as UTF-8 text. */
export const text = (bytes: Uint8Array | null): string | null =>
  bytes === null ? null : new TextDecoder().decode(bytes);

export { rejectsWith } from "./_helpers.ts";

/** Our direct children that are zombies (exited, not reaped), from /proc. */
export function zombieChildren(): number[] {
  const zombies: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    let stat: string;
    try {
      stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
    } catch {
      continue; // exited meanwhile
    }
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (fields[0] === "Z" && Number(fields[1]) === Deno.pid) zombies.push(Number(entry.name));
  }
  return zombies;
}

/** The process group of `pid`, from /proc. */
export function processGroup(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
}

/** `n` bytes of random data. */
export function randomBytes(n: number): Uint8Array {
  const bytes = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(bytes.subarray(i, i + 65536));
  return bytes;
}

/**
 * Runs a netkit script in a child `deno run` with `flags` (default `-A`;
 * `deno eval` would grant everything), the script's `args` and extra `env`;
 * resolves with its exit code and output.
 */
export async function denoChild(
  code: string,
  options: {
    stdin?: string;
    flags?: string[];
    cwd?: string;
    args?: string[];
    env?: Record<string, string>;
  } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const mod = new URL("../process/mod.ts", import.meta.url).href;
  const dir = await Deno.makeTempDir({ prefix: "netkit-child-" });
  try {
    const script = `${dir}/main.ts`;
    await Deno.writeTextFile(script, code.replaceAll("NETKIT_PROCESS", mod));
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", ...(options.flags ?? ["-A"]), script, ...(options.args ?? [])],
      cwd: options.cwd,
      env: options.env,
      stdin: options.stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    if (options.stdin !== undefined) {
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode(options.stdin));
      await writer.close();
    }
    const result = await child.output();
    return {
      code: result.code,
      stdout: new TextDecoder().decode(result.stdout),
      stderr: new TextDecoder().decode(result.stderr),
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
