import assert from "node:assert/strict";
import { NetError } from "../common/errors.ts";
import { PAIRS, rejectsWith, resetPeer } from "./_helpers.ts";

const text = (bytes: Uint8Array | null) => bytes === null ? null : new TextDecoder().decode(bytes);

for (const [kind, makePair] of PAIRS) {
  Deno.test(`${kind}: read returns what is available, up to max`, async () => {
    await using pair = await makePair();
    await pair.client.writeAll("hello world");
    const first = await pair.server.read(5);
    assert.equal(text(first), "hello");
    assert.equal(text(await pair.server.read()), " world");
  });

  Deno.test(`${kind}: bytes handed out survive their stream and its successors`, async () => {
    // Closed streams give their pump buffer back for reuse only when no view
    // of it was handed out: a view must never change under its holder.
    const views: Uint8Array[] = [];
    for (let i = 0; i < 20; i++) {
      await using pair = await makePair();
      await pair.client.writeAll(`view-${i}`);
      views.push((await pair.server.read())!);
    }
    assert.deepEqual(views.map(text), Array.from({ length: 20 }, (_, i) => `view-${i}`));
  });

  Deno.test(`${kind}: a reused pump buffer exposes none of its earlier bytes`, async () => {
    const secret = "S".repeat(3000);
    for (let i = 0; i < 20; i++) {
      await using pair = await makePair();
      if (i % 2 === 0) {
        // Copied out through the pump (a deadline), never viewed: this
        // buffer goes back for reuse.
        await pair.client.writeAll(secret);
        const copy = new Uint8Array(secret.length);
        let got = 0;
        while (got < copy.length) {
          got += (await pair.server.readInto(copy.subarray(got), { timeout: 5000 }))!;
        }
        assert.equal(text(copy), secret);
      } else {
        await pair.client.writeAll("ab");
        await pair.client.shutdown("w");
        assert.equal(pair.server.buffered, 0);
        assert.equal(text(await pair.server.readAll()), "ab");
      }
    }
  });

  Deno.test(`${kind}: readExact assembles many small writes`, async () => {
    await using pair = await makePair();
    const expected = new Uint8Array(1000).map((_, i) => i & 255);
    const writer = (async () => {
      for (let i = 0; i < expected.length; i += 7) {
        await pair.client.writeAll(expected.subarray(i, i + 7));
      }
    })();
    const got = await pair.server.readExact(1000);
    await writer;
    assert.deepEqual(got, expected);
  });

  Deno.test(`${kind}: readExact at early end rejects unexpected_eof with the partial bytes`, async () => {
    await using pair = await makePair();
    await pair.client.writeAll("abc");
    await pair.client.shutdown("w");
    const error = await rejectsWith(pair.server.readExact(10), "unexpected_eof");
    assert.equal(text(error.partial!), "abc");
    assert.equal(await pair.server.read(), null);
  });

  Deno.test(`${kind}: a waiting readExact without options keeps its turn, and close() rejects the line`, async () => {
    await using pair = await makePair();
    await pair.client.writeAll("xab");
    assert.equal(text(await pair.server.readExact(1)), "x");
    const first = pair.server.readExact(5); // waits holding the line, no deadline
    const second = pair.server.readExact(1); // "a" is buffered, but it is not its turn
    const third = pair.server.read();
    assert.equal(pair.server.buffered, 2);
    await pair.client.writeAll("cde");
    assert.equal(text(await first), "abcde");
    await pair.client.writeAll("fg");
    assert.equal(text(await second), "f");
    assert.equal(text(await third), "g");
    const waiting = rejectsWith(pair.server.readExact(4), "closed");
    const queued = rejectsWith(pair.server.readExact(1), "closed");
    await pair.client.writeAll("hi"); // fewer than four: the first goes on waiting
    pair.server.close();
    await waiting;
    await queued;
  });

  Deno.test(`${kind}: readLine joins split chunks and strips CRLF`, async () => {
    await using pair = await makePair();
    const reading = Promise.all([pair.server.readLine(), pair.server.readLine()]);
    for (const part of ["GET / HT", "TP/1.0\r", "\nHost: x", "\n"]) {
      await pair.client.writeAll(part);
    }
    assert.deepEqual(await reading, ["GET / HTTP/1.0", "Host: x"]);
  });

  Deno.test(`${kind}: readLine over maxBytes rejects invalid_argument and keeps the bytes`, async () => {
    await using pair = await makePair();
    await pair.client.writeAll("0123456789\n");
    const error = await rejectsWith(pair.server.readLine({ maxBytes: 4 }), "invalid_argument");
    assert.equal(error.field, "maxBytes");
    assert.equal(await pair.server.readLine(), "0123456789");
  });

  Deno.test(`${kind}: readLine returns null at a clean end and unexpected_eof inside a line`, async () => {
    await using pair = await makePair();
    await pair.client.writeAll("one\ntwo");
    await pair.client.shutdown("w");
    assert.equal(await pair.server.readLine(), "one");
    const error = await rejectsWith(pair.server.readLine(), "unexpected_eof");
    assert.equal(text(error.partial!), "two");
    assert.equal(await pair.server.readLine(), null);
  });

  Deno.test(`${kind}: reads waiting in line are served in order, even when bytes are buffered`, async () => {
    await using pair = await makePair();
    await pair.client.writeAll("xy");
    assert.equal(text(await pair.server.readExact(1)), "x");
    assert.equal(pair.server.buffered, 1);
    // The first read holds the line waiting for more; the later calls could be
    // answered from the buffered "y" at once but must wait their turn.
    const first = pair.server.readExact(3, { timeout: 5000 });
    const second = pair.server.read();
    const third = pair.server.readLine();
    await pair.client.writeAll("zw");
    assert.equal(text(await first), "yzw");
    await pair.client.writeAll("Q");
    assert.equal(text(await second), "Q");
    await pair.client.writeAll("line\r\n");
    assert.equal(await third, "line");
  });

  Deno.test(`${kind}: buffered lines, frames and chunks come out whole and in order`, async () => {
    await using pair = await makePair();
    const long = "L".repeat(70 * 1024);
    await pair.client.writeAll(`a\r\nb\n\n${long}\nrest`);
    await pair.client.shutdown("w");
    await pair.server.readExact(1).then((a) => assert.equal(text(a), "a"));
    assert.equal(await pair.server.readLine(), "");
    assert.equal(await pair.server.readLine(), "b");
    assert.equal(await pair.server.readLine(), "");
    // Longer than the default 64 KiB limit: refused, bytes kept.
    await rejectsWith(pair.server.readLine(), "invalid_argument", "maxBytes");
    assert.equal(await pair.server.readLine({ maxBytes: long.length }), long);
    assert.equal(text(await pair.server.read(2)), "re");
    assert.equal(text(await pair.server.read()), "st");
    assert.equal(await pair.server.read(), null);
  });

  Deno.test(`${kind}: readUntil with a multi-byte delimiter`, async () => {
    await using pair = await makePair();
    await pair.client.writeAll("a--b-c--");
    assert.equal(text(await pair.server.readUntil("--")), "a");
    assert.equal(text(await pair.server.readUntil("--")), "b-c");
  });

  Deno.test(`${kind}: a timed-out read consumes nothing; late bytes go to the next read`, async () => {
    await using pair = await makePair();
    let sent = "";
    let got = "";
    for (let i = 0; i < 30; i++) {
      const late = pair.server.read(1024, { timeout: 1 }).then(
        (bytes) => {
          got += text(bytes);
        },
        (error) => assert.equal(error.code, "timeout"),
      );
      if (i % 3 === 0) await late;
      const piece = `<${i}>`;
      sent += piece;
      await pair.client.writeAll(piece);
      await late;
    }
    await pair.client.shutdown("w");
    got += text(await pair.server.readAll());
    assert.equal(got, sent);
  });

  Deno.test(`${kind}: an aborted read rejects aborted with the reason and loses nothing`, async () => {
    await using pair = await makePair();
    const controller = new AbortController();
    const reading = pair.server.read(100, { signal: controller.signal });
    const reason = new Error("stop");
    controller.abort(reason);
    const error = await rejectsWith(reading, "aborted");
    assert.equal(error.cause, reason);
    await pair.client.writeAll("kept");
    assert.equal(text(await pair.server.read()), "kept");
  });

  Deno.test(`${kind}: a read with an already-aborted signal fails even with data ready`, async () => {
    await using pair = await makePair();
    await pair.client.writeAll("x");
    assert.equal(text(await pair.server.readExact(1)), "x");
    await pair.client.writeAll("y");
    await rejectsWith(pair.server.read(10, { signal: AbortSignal.abort() }), "aborted");
    await rejectsWith(pair.server.read(10, { timeout: 0 }), "timeout");
    assert.equal(text(await pair.server.read()), "y");
  });

  Deno.test(`${kind}: a timed-out readExact keeps the partial bytes for the next read`, async () => {
    await using pair = await makePair();
    await pair.client.writeAll("ab");
    await rejectsWith(pair.server.readExact(4, { timeout: 20 }), "timeout");
    await pair.client.writeAll("cd");
    assert.equal(text(await pair.server.readExact(4)), "abcd");
  });

  Deno.test(`${kind}: shutdown("w") then the peer's reply is read in full`, async () => {
    await using pair = await makePair();
    await pair.client.writeAll("request");
    await pair.client.shutdown("w");
    await pair.client.shutdown("w");
    assert.equal(text(await pair.server.readAll()), "request");
    const reply = "r".repeat(200_000);
    await pair.server.writeAll(reply);
    pair.server.close();
    assert.equal(text(await pair.client.readAll()), reply);
    await rejectsWith(pair.client.write("more"), "broken_pipe");
  });

  Deno.test(`${kind}: close during a pending read rejects closed`, async () => {
    await using pair = await makePair();
    const reading = pair.server.read();
    pair.server.close();
    pair.server.close();
    await rejectsWith(reading, "closed");
    await rejectsWith(pair.server.read(), "closed");
    await rejectsWith(pair.server.write("x"), "closed");
  });

  Deno.test(`${kind}: shutdown("r") makes reads end and discards buffered input`, async () => {
    await using pair = await makePair();
    await pair.client.writeAll("ignored");
    assert.equal(text(await pair.server.readExact(1)), "i");
    await pair.server.shutdown("r");
    assert.equal(await pair.server.read(), null);
    await pair.server.writeAll("still writes");
    assert.equal(text(await pair.client.readExact(12)), "still writes");
  });

  Deno.test(`${kind}: writeAll after the peer closed rejects with written set`, async () => {
    await using pair = await makePair();
    pair.server.close();
    assert.equal(await pair.client.read(), null);
    const chunk = new Uint8Array(64 * 1024);
    let error: NetError | undefined;
    for (let i = 0; i < 5 && !error; i++) {
      try {
        await pair.client.writeAll(chunk);
      } catch (e) {
        error = e as NetError;
      }
    }
    assert.ok(error instanceof NetError);
    assert.ok(["broken_pipe", "connection_reset"].includes(error.code), error.code);
    assert.equal(typeof error.written, "number");
  });

  Deno.test(`${kind}: writeAll refused before any byte says written 0`, async () => {
    await using pair = await makePair();
    await pair.client.shutdown("w");
    const error = await rejectsWith(pair.client.writeAll("late"), "broken_pipe");
    assert.equal(error.written, 0);
    pair.client.close();
    assert.equal((await rejectsWith(pair.client.writeAll("x"), "closed")).written, 0);
  });

  Deno.test(`${kind}: readable and writable keep half-close exact`, async () => {
    await using pair = await makePair();
    const writer = pair.client.writable.getWriter();
    await writer.write(new TextEncoder().encode("via web streams"));
    await writer.close();
    let received = "";
    for await (const chunk of pair.server.readable) received += text(chunk);
    assert.equal(received, "via web streams");
    await pair.server.writeAll("answer");
    await pair.server.shutdown("w");
    assert.equal(text(await pair.client.readAll()), "answer");
  });

  Deno.test(`${kind}: async iteration yields every chunk until the end`, async () => {
    await using pair = await makePair();
    const total = 300_000;
    const writing = (async () => {
      await pair.client.writeAll(new Uint8Array(total).fill(9));
      await pair.client.shutdown("w");
    })();
    let count = 0;
    for await (const chunk of pair.server) {
      assert.ok(chunk.every((b) => b === 9));
      count += chunk.length;
    }
    await writing;
    assert.equal(count, total);
  });

  Deno.test(`${kind}: concurrent writeAll calls do not interleave`, async () => {
    await using pair = await makePair();
    const a = new Uint8Array(500_000).fill(1);
    const b = new Uint8Array(500_000).fill(2);
    const writes = Promise.all([pair.client.writeAll(a), pair.client.writeAll(b)]);
    const got = await pair.server.readExact(1_000_000);
    await writes;
    assert.ok(got.subarray(0, 500_000).every((x) => x === 1));
    assert.ok(got.subarray(500_000).every((x) => x === 2));
  });

  Deno.test(`${kind}: readInto fills the caller's buffer and readExact(0) is empty`, async () => {
    await using pair = await makePair();
    await pair.client.writeAll("12345");
    const buffer = new Uint8Array(3);
    assert.equal(await pair.server.readInto(buffer), 3);
    assert.equal(text(buffer), "123");
    assert.equal((await pair.server.readExact(0)).length, 0);
    assert.equal(await pair.server.readInto(buffer, { timeout: 1000 }), 2);
  });

  Deno.test(`${kind}: bad arguments reject invalid_argument naming the field`, async () => {
    await using pair = await makePair();
    await pair.client.writeAll("buffered bytes make the fast paths eligible");
    assert.equal(text(await pair.server.readExact(1)), "b");
    const calls: [() => Promise<unknown>, string][] = [
      [() => pair.server.read(0), "max"],
      [() => pair.server.read(1, { timeout: -1 }), "timeout"],
      [() => pair.server.read(1, { bogus: 1 } as never), "bogus"],
      [() => pair.server.readExact(1.5), "n"],
      [() => pair.server.readInto(new Uint8Array(0)), "buffer"],
      [() => pair.server.readLine({ maxBytes: 0 }), "maxBytes"],
      [() => pair.server.readUntil(""), "delimiter"],
      [() => pair.client.write(42 as never), "data"],
      [() => pair.client.shutdown("x" as never), "how"],
    ];
    for (const [call, field] of calls) {
      const error = await rejectsWith(Promise.resolve().then(() => call()), "invalid_argument");
      assert.equal(error.field, field);
    }
  });
}

Deno.test("tcp: a peer reset is an error, not end of stream, and it stays", async () => {
  const { stream, done } = await resetPeer("hi");
  try {
    await done;
    assert.equal(text(await stream.readExact(2)), "hi");
    await rejectsWith(stream.read(), "connection_reset");
    await rejectsWith(stream.read(), "connection_reset");
    await rejectsWith(stream.write("x"), "connection_reset");
  } finally {
    stream.close();
  }
});

Deno.test("tcp: a readExact that waits for more than a reset peer sent rejects connection_reset", async () => {
  const { stream, done } = await resetPeer("hi");
  try {
    await done;
    await rejectsWith(stream.readExact(5), "connection_reset");
    // What came before the reset is not lost, and the reset stays.
    assert.equal(text(await stream.readExact(2)), "hi");
    await rejectsWith(stream.readExact(1), "connection_reset");
  } finally {
    stream.close();
  }
});

Deno.test("unix: close with unread input resets the peer", async () => {
  const [kind, makePair] = PAIRS[1];
  assert.equal(kind, "unix");
  await using pair = await makePair();
  await pair.client.writeAll("never read");
  const reading = pair.client.read();
  pair.server.close();
  await rejectsWith(reading, "connection_reset");
});
