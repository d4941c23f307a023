/**
 * Bad input, property-based (fast-check), for `process`: arbitrary argument
 * lists, env maps, fd maps, option objects, signals and deadlines give
 * success or a NetError (`invalid_argument` for bad input) — never a
 * TypeError, a crash, a hang, a zombie or a leaked pipe. Only harmless
 * programs run (`true`, `echo`, `cat`, or ones that do not exist).
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { fdopen, output, pipe, socketpair, spawn } from "../process/mod.ts";
import type { Stream } from "../common/stream.ts";
import {
  anything,
  assertInvalid,
  deadlineOptions,
  deadlineValue,
  label,
  options,
  outcome,
  PARAMS,
  params,
} from "./_fuzz.ts";

const PROGRAMS = ["true", "/bin/true", "/nonexistent/netkit-fuzz", "netkit-no-such-program"];

/** Keeps every string program harmless. */
const program = (allowed: string[]) =>
  fc.oneof(fc.constantFrom(...allowed), anything).map((value) =>
    typeof value === "string" && value !== "" && !value.includes("\0") ? allowed[0] : value
  );

const argList = (allowed: string[]) =>
  fc.oneof(
    {
      weight: 4,
      arbitrary: fc.tuple(
        fc.constantFrom(...allowed),
        fc.array(fc.oneof(fc.string({ maxLength: 10 }), anything), { maxLength: 4 }),
      ).map(([p, rest]) => [p, ...rest]),
    },
    { weight: 1, arbitrary: fc.constantFrom([], [""], ["true\0"], "true", null, [1]) },
    { weight: 1, arbitrary: anything },
  );

/** A files map: fd keys (valid or not) to specs (valid or not). Streams are made per run. */
const filesSpec = fc.oneof(
  fc.dictionary(
    fc.oneof(
      fc.constantFrom("0", "1", "2", "3", "5"),
      fc.constantFrom("-1", "1.5", "x", "01", "5000"),
    ),
    fc.oneof(
      fc.constantFrom("inherit", "null", "piped", "pipe", "stream", 2, -1, 1.5, 999),
      anything,
    ),
    { maxKeys: 4 },
  ),
  fc.constantFrom(["null", "piped", "null"], [], null),
  anything,
);

Deno.test("spawn with arbitrary args, options and fd maps starts and reaps the child or fails with a NetError", async () => {
  const dir = await Deno.makeTempDir({ prefix: "netkit-fuzz-" });
  try {
    await fc.assert(
      fc.asyncProperty(
        argList(PROGRAMS),
        options({
          exe: program(PROGRAMS),
          env: fc.oneof(
            fc.dictionary(fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 }), { maxKeys: 3 }),
            fc.constantFrom({ "A=B": "x" }, { A: "\0" }, { "": "x" }, { A: 1 }),
          ),
          clearEnv: fc.boolean(),
          cwd: fc.constantFrom(dir, "/nonexistent/netkit", "/", ""),
          uid: fc.constantFrom(0, 65534, -1, 1.5),
          gid: fc.constantFrom(0, 65534, -1, 2 ** 33),
          pgroup: fc.boolean(),
          signal: fc.constantFrom(AbortSignal.abort(), new AbortController().signal),
          files: filesSpec,
        }),
        async (args, opts) => {
          // "stream" in a files map stands for a fresh socketpair end (handed over, closed here).
          const ends: Stream[] = [];
          const files = (opts as { files?: unknown } | null)?.files;
          if (files && typeof files === "object" && !Array.isArray(files)) {
            for (const [fd, spec] of Object.entries(files)) {
              if (spec === "stream") {
                const [a, b] = await socketpair();
                ends.push(a, b);
                (files as Record<string, unknown>)[fd] = a;
              }
            }
          }
          try {
            const result = await outcome(() => spawn(args as never, opts as never));
            if (!Array.isArray(args) || args.length === 0) {
              assertInvalid(result, `spawn(${label(args)})`);
            }
            if (!result.ok) return;
            await using child = result.value;
            const status = await child.wait({ timeout: 10_000 });
            assert.ok("exited" in status || "signaled" in status, JSON.stringify(status));
          } finally {
            for (const end of ends) end.close();
          }
        },
      ),
      PARAMS,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("Process kill/wait/tryWait with arbitrary signals and options succeed or fail with a NetError", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        fc.constantFrom("SIGTERM", "SIGINT", "SIGUSR1", "SIGCONT", "SIGBOGUS", 0, 9, 15, -1),
        anything,
      ),
      options({ group: fc.boolean() }),
      deadlineOptions,
      async (signal, killOptions, waitOptions) => {
        await using child = await spawn(["sleep", "30"], { files: {} });
        const killed = await outcome(() => child.kill(signal as never, killOptions as never));
        if (signal !== undefined && typeof signal !== "string" && typeof signal !== "number") {
          assertInvalid(killed, `kill(${label(signal)})`);
        }
        child.kill("SIGKILL"); // whatever happened, it ends now, so wait never hangs
        await outcome(() => child.wait(waitOptions as never));
        const status = await child.wait();
        assert.ok("exited" in status || "signaled" in status);
        const tried = await outcome(() => child.tryWait());
        assert.ok(tried.ok);
        assert.deepEqual(tried.value, status);
      },
    ),
    params(80),
  );
});

Deno.test("output with arbitrary args and options returns the result or fails with a NetError", async () => {
  const OUTPUT_PROGRAMS = ["echo", "cat", "true", "/nonexistent/netkit-fuzz"];
  await fc.assert(
    fc.asyncProperty(
      argList(OUTPUT_PROGRAMS),
      options({
        stdin: fc.oneof(fc.string({ maxLength: 50 }), fc.uint8Array({ maxLength: 5000 }), anything),
        timeout: deadlineValue,
        env: fc.dictionary(fc.stringMatching(/^[A-Z]{1,5}$/), fc.string({ maxLength: 5 }), {
          maxKeys: 2,
        }),
        clearEnv: fc.boolean(),
        files: fc.constant({ 1: "piped" }),
        exe: program(OUTPUT_PROGRAMS),
      }),
      async (args, opts) => {
        const result = await outcome(() => output(args as never, opts as never));
        if (result.ok) {
          assert.ok(result.value.stdout instanceof Uint8Array);
          assert.ok(result.value.stderr instanceof Uint8Array);
        }
      },
    ),
    params(100),
  );
});

Deno.test("pipe, socketpair and fdopen with arbitrary arguments give streams or fail with a NetError", async () => {
  await fc.assert(
    fc.asyncProperty(anything, async (value) => {
      const piped = await outcome(() => (pipe as (...a: unknown[]) => Promise<Stream[]>)(value));
      if (piped.ok) { for (const end of piped.value) end.close(); }
      const paired = await outcome(() =>
        (socketpair as (...a: unknown[]) => Promise<Stream[]>)(value)
      );
      if (paired.ok) { for (const end of paired.value) end.close(); }
      // A whole number above 2 would adopt (and close) one of the runtime's own descriptors.
      const number = typeof value === "number" && Number.isInteger(value) && value >= 0;
      if (number && value > 2) return;
      const opened = await outcome(() => fdopen(value as 0));
      if (!number) assertInvalid(opened, `fdopen(${label(value)})`);
      if (opened.ok) opened.value.close();
    }),
    PARAMS,
  );
  for (const fd of [0, 1, 2] as const) fdopen(fd).close();
});
