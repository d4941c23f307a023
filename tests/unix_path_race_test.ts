/**
 * Contenders racing for one stale unix socket path: exactly one may win each
 * round, the winner must be the socket a client reaches at the path, and the
 * others must fail address_in_use (never a "winner" whose path is gone).
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { connect, listen, NetError } from "../unix/mod.ts";
import type { UnixListener } from "../unix/mod.ts";
import { bindUnix } from "../udp/mod.ts";
import type { UnixDatagramSocket } from "../udp/mod.ts";
import { LineChild, tempDir, UNIX_MOD } from "./_unix_util.ts";

const ROUNDS = 30;
const CONTENDERS = 6;
const decoder = new TextDecoder();

/** Leaves a stale stream socket file at `path` (bound elsewhere, linked here, closed). */
function staleStream(path: string, scratch: string): void {
  const listener = Deno.listen({ transport: "unix", path: scratch });
  Deno.linkSync(scratch, path);
  listener.close();
}

/** Leaves a stale datagram socket file at `path` (Deno keeps datagram paths on close). */
function staleDatagram(path: string): void {
  Deno.listenDatagram({ transport: "unixpacket", path }).close();
}

function codesOf(results: PromiseSettledResult<unknown>[]): string[] {
  return results.flatMap((result) =>
    result.status === "rejected"
      ? [result.reason instanceof NetError ? result.reason.code : String(result.reason)]
      : []
  );
}

/** Names left in `dir` other than `keep` (private bind names must not linger). */
function leftovers(dir: string, keep: string[]): string[] {
  return [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => !keep.includes(n)).sort();
}

Deno.test("listen: in-process contenders on a stale path, one winner per round, reachable", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/race.sock`;
  for (let round = 0; round < ROUNDS; round++) {
    staleStream(path, `${dir.path}/maker.sock`);
    const results = await Promise.allSettled(
      Array.from({ length: CONTENDERS }, () => listen(path)),
    );
    const winners = results.flatMap((r) => r.status === "fulfilled" ? [r.value] : []);
    try {
      assertEquals(winners.length, 1, `round ${round}: ${winners.length} winners`);
      assertEquals(
        codesOf(results),
        Array(CONTENDERS - 1).fill("address_in_use"),
        `round ${round}`,
      );
      await reachable(winners[0], path);
    } finally {
      for (const winner of winners) await winner[Symbol.asyncDispose]();
    }
    assertEquals(leftovers(dir.path, []), [], `round ${round}`);
  }
});

/**
 * A client at `path` talks to `listener` (not to some other socket). The
 * losers' probe connections (they connect and close, at most two each) are
 * queued before it.
 */
async function reachable(listener: UnixListener, path: string): Promise<void> {
  await using client = await connect(path);
  await client.writeAll("who\n");
  for (let i = 0; i <= 2 * CONTENDERS; i++) {
    await using server = await listener.accept({ timeout: 5000 });
    const line = await server.readLine();
    if (line === "who") return;
    assertEquals(line, null, "only probes, which send nothing, come before the client");
  }
  assert(false, "the client never arrived at the winner");
}

Deno.test("bindUnix: in-process contenders on a stale path, one winner per round, reachable", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/race.sock`;
  await using sender = await bindUnix(`${dir.path}/sender.sock`);
  for (let round = 0; round < ROUNDS; round++) {
    staleDatagram(path);
    const results = await Promise.allSettled(
      Array.from({ length: CONTENDERS }, () => bindUnix(path)),
    );
    const winners: UnixDatagramSocket[] = results.flatMap((r) =>
      r.status === "fulfilled" ? [r.value] : []
    );
    try {
      assertEquals(winners.length, 1, `round ${round}: ${winners.length} winners`);
      assertEquals(
        codesOf(results),
        Array(CONTENDERS - 1).fill("address_in_use"),
        `round ${round}`,
      );
      await sender.sendTo(`round ${round}`, path);
      const got = await winners[0].receive({ timeout: 5000 });
      assertEquals(decoder.decode(got.data), `round ${round}`);
    } finally {
      for (const winner of winners) await winner[Symbol.asyncDispose]();
    }
    assertEquals(leftovers(dir.path, ["sender.sock"]), [], `round ${round}`);
  }
});

/** A child process that listens on command and answers every connection with its id. */
const CONTENDER = `
import { listen } from "${UNIX_MOD}";
const id = Deno.args[0];
let listener = null;
let serving = null;
async function serve(l) {
  for await (const stream of l) {
    await stream.writeAll(id + "\\n").catch(() => {});
    stream.close();
  }
}
const input = Deno.stdin.readable.pipeThrough(new TextDecoderStream());
let pending = "";
console.log("ready");
for await (const chunk of input) {
  pending += chunk;
  let end;
  while ((end = pending.indexOf("\\n")) !== -1) {
    const [command, path] = pending.slice(0, end).split(" ");
    pending = pending.slice(end + 1);
    if (command === "go") {
      try {
        listener = await listen(path);
        serving = serve(listener);
        console.log("won");
      } catch (error) {
        console.log("lost " + (error.code ?? error.name));
      }
    } else if (command === "close") {
      if (listener !== null) {
        await listener[Symbol.asyncDispose]();
        await serving;
        listener = null;
      }
      console.log("closed");
    }
  }
}
`;

Deno.test("listen: contender processes on a stale path, one winner per round, reachable", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/race.sock`;
  const children = await Promise.all(
    Array.from({ length: CONTENDERS }, (_, id) => LineChild.spawn(CONTENDER, [`child-${id}`])),
  );
  try {
    for (let round = 0; round < ROUNDS; round++) {
      staleStream(path, `${dir.path}/maker.sock`);
      await Promise.all(children.map((child) => child.send(`go ${path}`)));
      const outcomes = await Promise.all(children.map((child) => child.line()));
      const winners = outcomes.flatMap((outcome, id) => outcome === "won" ? [id] : []);
      try {
        assertEquals(winners.length, 1, `round ${round}: ${JSON.stringify(outcomes)}`);
        const losers = outcomes.filter((outcome) => outcome !== "won");
        assertEquals(losers, Array(CONTENDERS - 1).fill("lost address_in_use"), `round ${round}`);
        await using client = await connect(path);
        assertEquals(await client.readLine(), `child-${winners[0]}`, `round ${round}`);
      } finally {
        await Promise.all(children.map((child) => child.send("close")));
        for (const child of children) assertEquals(await child.line(), "closed");
      }
      assertEquals(leftovers(dir.path, []), [], `round ${round}`);
    }
  } finally {
    for (const child of children) await child[Symbol.asyncDispose]();
  }
});

Deno.test("listen: a losing contender never touches the winner's path", async () => {
  await using dir = await tempDir();
  const path = `${dir.path}/kept.sock`;
  await using winner = await listen(path);
  const before = await Deno.lstat(path);
  const results = await Promise.allSettled(
    Array.from({ length: CONTENDERS }, () => listen(path)),
  );
  assertEquals(codesOf(results), Array(CONTENDERS).fill("address_in_use"));
  const after = await Deno.lstat(path);
  assertEquals([after.dev, after.ino], [before.dev, before.ino]);
  await reachable(winner, path);
  assert(leftovers(dir.path, ["kept.sock"]).length === 0);
});
