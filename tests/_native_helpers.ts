/** Helpers of the native-layer tests: the kernel's own tables, and python3 peers. */

/** The inode of the socket at `/proc/self/fd/<fd>` (`socket:[N]`), or `undefined`. */
export function socketInode(fd: number): number | undefined {
  try {
    const match = /^socket:\[(\d+)\]$/.exec(Deno.readLinkSync(`/proc/self/fd/${fd}`));
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** `"0100007F:1F90"` (little-endian IPv4 : hex port) as `{ hostname, port }`. */
function parseV4(field: string): { hostname: string; port: number } {
  const [hex, port] = field.split(":");
  const bytes = [6, 4, 2, 0].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return { hostname: bytes.join("."), port: parseInt(port, 16) };
}

/** One row of /proc/net/tcp or udp: local and remote address, state, inode. */
export interface InetRow {
  local: { hostname: string; port: number };
  remote: { hostname: string; port: number };
  inode: number;
}

/** The IPv4 rows of `/proc/net/<table>` (`"tcp"` or `"udp"`). */
export function inetTable(table: "tcp" | "udp"): InetRow[] {
  return Deno.readTextFileSync(`/proc/net/${table}`).split("\n").slice(1).filter((line) =>
    line.trim() !== ""
  ).map((line) => {
    const fields = line.trim().split(/\s+/);
    return { local: parseV4(fields[1]), remote: parseV4(fields[2]), inode: Number(fields[9]) };
  });
}

/** One row of /proc/net/unix: inode and bound path (abstract names with a leading "@"). */
export function unixTable(): { inode: number; path: string | null }[] {
  return Deno.readTextFileSync("/proc/net/unix").split("\n").slice(1).filter((line) =>
    line.trim() !== ""
  ).map((line) => {
    const fields = line.trim().split(/\s+/);
    return { inode: Number(fields[6]), path: fields[7] ?? null };
  });
}

/**
 * A python3 peer that connects to 127.0.0.1:PORT, sends one byte once it
 * is connected, then blocks in recv and prints what its pending read saw:
 * `reset`, `eof`, or `data`.
 */
export const PENDING_READER = `
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"r")
try:
    got = s.recv(100)
    print("data" if got else "eof")
except ConnectionResetError:
    print("reset")
`;

/** Starts the PENDING_READER against `port`; resolves with what it printed. */
export function pendingReader(port: number): Promise<string> {
  const child = new Deno.Command("python3", {
    args: ["-c", PENDING_READER, String(port)],
    stdin: "null",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  return child.output().then((out) => new TextDecoder().decode(out.stdout).trim());
}

/**
 * A python3 peer that connects to the unix socket at PATH, sends its pid
 * as a line and waits until we close.
 */
export const PID_CLIENT = `
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(f"{os.getpid()}\\n".encode())
s.recv(1)
`;

/** A C library of the test's own, for what the tests do behind netkit (connect a UDP socket). */
export function testLibc() {
  return Deno.dlopen("libc.so.6", {
    connect: { parameters: ["i32", "buffer", "u32"], result: "i32" },
  });
}

/** A `sockaddr_in` for 127.0.0.1:`port` (Linux layout). */
export function loopbackSockaddr(port: number): Uint8Array {
  const bytes = new Uint8Array(16);
  const view = new DataView(bytes.buffer);
  view.setUint16(0, 2, true);
  view.setUint16(2, port, false);
  bytes.set([127, 0, 0, 1], 4);
  return bytes;
}
