/**
 * Private helpers of the unix module.
 *
 * @module
 */

/** A socket path as messages show it: abstract names with lsocket's `"@"`. */
export function displayPath(path: string): string {
  return path[0] === "\0" ? "@" + path.slice(1) : path;
}

/** The `Deno.UnixAddr` of a path. */
export function unixAddr(path: string | null): Deno.UnixAddr {
  return { transport: "unix", path: path as string };
}

/**
 * Tells a live server from a stale socket file left by a crashed one:
 * refused or missing → stale; accepted → alive (the probe connection is
 * closed at once). A full backlog (`WouldBlock`) means a live server.
 * Anything else (e.g. `EACCES`) is thrown: the path is then left alone.
 */
export async function probeStream(path: string): Promise<"alive" | "stale"> {
  let conn: Deno.UnixConn;
  try {
    conn = await Deno.connect({ transport: "unix", path });
  } catch (error) {
    if (error instanceof Deno.errors.ConnectionRefused || error instanceof Deno.errors.NotFound) {
      return "stale";
    }
    if (error instanceof Deno.errors.WouldBlock) return "alive";
    throw error;
  }
  conn.close();
  return "alive";
}
