/**
 * What the raw-Deno baselines share: filling a buffer from a `Deno.Conn`
 * with `conn.read`, as a program without netkit writes it.
 *
 * @module
 */

/** Reads until `buffer` is full; an early end of stream throws. */
export async function rawReadExact(conn: Deno.Conn, buffer: Uint8Array): Promise<void> {
  for (let got = 0; got < buffer.length;) {
    const n = await conn.read(buffer.subarray(got));
    if (n === null) throw new Error("unexpected end of stream");
    got += n;
  }
}
