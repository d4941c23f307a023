/**
 * examples/multicore_server.ts: Workers accepting on duplicates of one
 * listener (`fdopen(listener.fileno(), { duplicate: true })`).
 */
import assert from "node:assert/strict";
import { demo, request, startServer } from "../examples/multicore_server.ts";
import { hash64k } from "../examples/_multicore_worker.ts";
import { socketInode } from "./_native_helpers.ts";

/** Our descriptors of the socket `socket:[inode]`. */
function descriptorsOf(inode: number): number[] {
  return [...Deno.readDirSync("/proc/self/fd")].map((entry) => Number(entry.name))
    .filter((fd) => socketInode(fd) === inode);
}

/** `total` requests on fresh connections, `width` at a time, each answer checked. */
async function requests(port: number, total: number, width: number): Promise<void> {
  for (let done = 0; done < total; done += width) {
    await Promise.all(Array.from({ length: Math.min(width, total - done) }, async (_, i) => {
      const n = done + i;
      const path = n % 2 === 0 ? `/hash/${n}` : `/echo/${n}`;
      assert.equal(await request(port, path), n % 2 === 0 ? hash64k(String(n)) : String(n));
    }));
  }
}

Deno.test("2 Workers on duplicates of one listener serve 200 connections between them; one closing its duplicate leaves the others", async () => {
  const server = await startServer({ workers: 2 });
  const listener = server.listener!;
  const port = server.port;
  assert.equal(port, listener.addr.port);
  const fd = listener.fileno();
  const inode = socketInode(fd);
  assert.ok(inode !== undefined);
  const [first, second] = server.descriptors;
  // Each Worker holds its own descriptor of the one socket.
  assert.equal(new Set([fd, first, second]).size, 3);
  assert.deepEqual(descriptorsOf(inode!).sort(), [fd, first, second].sort());
  assert.equal(socketInode(first), inode);
  assert.equal(socketInode(second), inode);

  await requests(port, 200, 10);
  const stopped = await server.stopWorker(0);
  assert.ok(stopped.served > 0, `worker 0 served ${stopped.served}`);
  // Worker 0's duplicate is closed; worker 1's and ours are not.
  assert.notEqual(socketInode(first), inode);
  assert.equal(socketInode(second), inode);
  assert.equal(listener.closed, false);
  assert.equal(listener.fileno(), fd);

  await requests(port, 20, 10);
  const reports = await server.close();
  assert.ok(reports[1].served > 0, `worker 1 served ${reports[1].served}`);
  assert.equal(reports[0].served + reports[1].served, 220);
  assert.equal(reports[0], stopped);
  assert.equal(listener.closed, true);
  // No descriptor of the socket is left. (A terminated Worker's runtime releases its own
  // descriptors — epoll, eventfd, an internal socket — when its thread ends, after terminate()
  // returned, with no event to await: the total count is not compared here.)
  assert.deepEqual(descriptorsOf(inode!), []);
});

Deno.test("examples/multicore_server.ts's demonstration", async () => {
  assert.deepEqual(await demo(), [
    "2 workers on 127.0.0.1 (each on its own duplicate of the listener)",
    "echo: hello",
    "worker 0 stopped after serving",
    "after worker 0 closed its duplicate: 8 answers, 1 distinct",
    "parent's listener still open: true",
  ]);
});

Deno.test("the reuseport variant: each Worker listens on the port itself and the kernel spreads connections", async () => {
  await using server = await startServer({ workers: 2, share: "reuseport" });
  assert.equal(server.listener, null);
  await requests(server.port, 40, 10);
  const reports = await server.close();
  assert.equal(reports[0].served + reports[1].served, 40);
  assert.ok(reports.every((report) => report.served > 0), JSON.stringify(reports));
});
