import { isPath as isSocketPath } from "../common/_unix_path.ts";

/**
 * Whether unix domain sockets can be used here (Racket's
 * `unix-socket-available?`): false on Windows.
 *
 * @example
 * ```ts
 * import { available } from "@netkit/netkit/unix";
 *
 * if (!available) console.log("no unix sockets here");
 * ```
 */
export const available: boolean = Deno.build.os !== "windows";

/**
 * Tells whether `value` is a usable unix socket path on this platform
 * (Racket's `unix-socket-path?`): a non-empty string without NUL bytes of
 * at most 107 bytes on Linux (103 on macOS), or on Linux an abstract name
 * with a leading `"\0"` or lsocket's `"@"`.
 *
 * @param value Anything.
 * @returns `true` when `listen`/`connect` accept it as a path.
 *
 * @example
 * ```ts
 * import { isPath } from "@netkit/netkit/unix";
 *
 * console.log(isPath("/run/app.sock")); // true
 * console.log(isPath("/tmp/" + "x".repeat(200))); // false: too long
 * console.log(isPath("a\0b")); // false
 * console.log(isPath("@app")); // true on Linux (abstract name)
 * ```
 */
export function isPath(value: unknown): boolean {
  return available && isSocketPath(value);
}
