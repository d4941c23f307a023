import { strictEqual as assertEquals } from "node:assert/strict";
import { POLLERR, POLLIN, Waiter } from "../common/_native/wait.ts";
import { idle, native } from "../common/_native/libc.ts";

/** A UDP socket made with the C library, bound to 127.0.0.1 on a kernel-chosen port. */
function udpSocket(): { fd: number; port: number; close(): void } {
  const n = native("test", "test");
  const fd = n.sym.socket(2, 2, 0);
  const addr = new Uint8Array(16);
  const view = new DataView(addr.buffer);
  view.setUint16(0, 2, true);
  addr.set([127, 0, 0, 1], 4);
  if (n.sym.bind(fd, addr, 16) !== 0) throw n.fail("bind", "test");
  const len = new Uint8Array(4);
  new DataView(len.buffer).setUint32(0, 16, true);
  n.sym.getsockname(fd, addr, len);
  return { fd, port: view.getUint16(2), close: () => n.sym.close(fd) };
}

Deno.test("Waiter: a datagram makes the descriptor readable", async () => {
  const socket = udpSocket();
  const waiter = new Waiter("test", "test");
  try {
    const ready = waiter.wait(socket.fd, POLLIN);
    const sender = Deno.listenDatagram({ transport: "udp", hostname: "127.0.0.1", port: 0 });
    await sender.send(new Uint8Array([1]), {
      transport: "udp",
      hostname: "127.0.0.1",
      port: socket.port,
    });
    sender.close();
    assertEquals((await ready) & POLLIN, POLLIN);
  } finally {
    await waiter.close();
    socket.close();
    idle();
  }
});

Deno.test("Waiter: wake ends a wait at once, and close settles a pending one", async () => {
  const socket = udpSocket();
  const waiter = new Waiter("test", "test");
  try {
    const first = waiter.wait(socket.fd, POLLIN);
    waiter.wake();
    assertEquals(await first, 0);
    assertEquals(await waiter.wait(socket.fd, POLLIN, 1), 0);
    const pending = waiter.wait(socket.fd, POLLERR);
    await waiter.close();
    assertEquals(await pending, 0);
  } finally {
    await waiter.close();
    socket.close();
    idle();
  }
});
