/**
 * Bad input, property-based (fast-check): the functions of `mod.ts` and
 * every method of the shared `Stream` take arbitrary values and answer with
 * success or a NetError — `invalid_argument` where the input is wrong —
 * never a TypeError, a crash, a hang or a leak. Addresses round-trip.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  addressToBytes,
  bytesToAddress,
  errorCodeOf,
  formatAddress,
  interfaces,
  NetError,
  parseAddress,
  resolve,
  type Stream,
} from "../mod.ts";
import { socketpair } from "../process/mod.ts";
import { lookupsSettled } from "../common/_address.ts";
import {
  anything,
  assertInvalid,
  deadlineOptions,
  label,
  options,
  outcome,
  PARAMS,
  params,
  validDeadline,
} from "./_fuzz.ts";

const port = fc.integer({ min: 0, max: 65535 });

Deno.test("parseAddress(formatAddress(a)) round-trips any IPv4 or IPv6 address and port", () => {
  fc.assert(
    fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), port, (hostname, port) => {
      const text = formatAddress({ hostname, port });
      assert.deepEqual(parseAddress(text), { hostname, port });
      assert.equal(formatAddress(parseAddress(text)), text);
    }),
    params(300),
  );
});

Deno.test("bytesToAddress(addressToBytes(a)) round-trips any address bytes, and the bytes of any address", () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ minLength: 4, maxLength: 4 }),
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
      ),
      (bytes) => {
        assert.deepEqual(addressToBytes(bytesToAddress(bytes)), bytes);
      },
    ),
    params(300),
  );
  fc.assert(
    fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), (address) => {
      const bytes = addressToBytes(address);
      assert.equal(bytes.length, address.includes(":") ? 16 : 4);
      assert.deepEqual(addressToBytes(bytesToAddress(bytes)), bytes);
    }),
    params(300),
  );
});

Deno.test("addressToBytes and bytesToAddress reject anything else invalid_argument naming the argument", () => {
  for (const bad of ["localhost", "", "1.2.3", "::g", 7, null]) {
    assert.throws(
      () => addressToBytes(bad as string),
      (e: NetError) => e.code === "invalid_argument" && e.field === "address",
    );
  }
  for (const bad of [new Uint8Array(3), new Uint8Array(5), [127, 0, 0, 1], "127.0.0.1"]) {
    assert.throws(
      () => bytesToAddress(bad as Uint8Array),
      (e: NetError) => e.code === "invalid_argument" && e.field === "bytes",
    );
  }
  assert.deepEqual(
    addressToBytes("[2001:db8::1]"),
    Uint8Array.from([32, 1, 13, 184, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
  );
  assert.equal(bytesToAddress(Uint8Array.from([10, 0, 0, 255])), "10.0.0.255");
});

Deno.test("parseAddress(formatAddress(a)) round-trips host names, or formatAddress rejects them invalid_argument", () => {
  fc.assert(
    fc.property(fc.oneof(fc.domain(), fc.ipV4Extended()), port, (hostname, port) => {
      let text: string;
      try {
        text = formatAddress({ hostname, port });
      } catch (error) {
        assert.ok(error instanceof NetError && error.code === "invalid_argument", String(error));
        return;
      }
      assert.deepEqual(parseAddress(text), { hostname, port });
    }),
    params(300),
  );
});

Deno.test("parseAddress on any string or value returns { hostname, port } or throws invalid_argument", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        fc.string({ unit: "binary", maxLength: 60 }),
        fc.constantFrom("[", "[]:1", ":", "1:2:3"),
        anything,
      ),
      options({ hostname: fc.string(), port }),
      async (input, defaults) => {
        const result = await outcome(() => parseAddress(input as string, defaults as never));
        if (result.ok) {
          assert.equal(typeof result.value.hostname, "string");
          assert.ok(
            Number.isInteger(result.value.port) && result.value.port >= 0 &&
              result.value.port <= 65535,
          );
        } else assertInvalid(result, `parseAddress(${label(input)})`);
      },
    ),
    params(300),
  );
});

Deno.test("formatAddress on any value returns a string or throws invalid_argument", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(anything, options({ hostname: fc.oneof(fc.ipV4(), fc.ipV6(), fc.string()), port })),
      async (address) => {
        const result = await outcome(() => formatAddress(address as never));
        if (result.ok) assert.equal(typeof result.value, "string");
        else assertInvalid(result, "formatAddress");
      },
    ),
    PARAMS,
  );
});

/** True for a host name (not an IP literal) that would go to the system resolver. */
function wouldLookUp(name: unknown): boolean {
  if (typeof name !== "string") return false;
  try {
    parseAddress(name.includes(":") ? `[${name}]` : name);
  } catch {
    return false;
  }
  return !/^[\d.]+$/.test(name) && !name.includes(":") && name !== "localhost";
}

Deno.test("resolve on any name and options answers addresses or a NetError, invalid_argument for bad input", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(fc.ipV4(), fc.ipV6(), fc.constant("localhost"), anything),
      options({ family: fc.constantFrom("inet", "inet6", "ipv4"), port }),
      async (name, opts) => {
        fc.pre(!wouldLookUp(name)); // no queries to real DNS servers
        const result = await outcome(() => resolve(name as string, opts as never));
        if (result.ok) {
          assert.ok(Array.isArray(result.value));
          for (const entry of result.value) assert.ok(["inet", "inet6"].includes(entry.family));
        } else {
          assert.ok(
            ["invalid_argument", "name_not_resolved"].includes(result.error.code),
            result.error.message,
          );
        }
      },
    ),
    PARAMS,
  );
});

const SERVICES = ["http", "domain", "ssh", "no-such-service", "80", "65535", "65536", "", "a b"];
const GAI_FLAGS = [
  "canonicalName",
  "passive",
  "numericHost",
  "numericService",
  "v4Mapped",
  "addrConfig",
  "all",
] as const;

Deno.test("resolve with getaddrinfo options on any name answers well-formed entries or a NetError", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        {
          weight: 4,
          arbitrary: fc.oneof(fc.ipV4(), fc.ipV6(), fc.constantFrom("localhost", null)),
        },
        { weight: 1, arbitrary: anything },
      ),
      fc.oneof(
        // Valid values in any combination: getaddrinfo answers.
        {
          weight: 4,
          arbitrary: fc.record({
            family: fc.constantFrom("inet", "inet6"),
            port: fc.oneof(port, fc.constantFrom(...SERVICES.slice(0, 6))),
            type: fc.constantFrom("tcp", "udp", "raw"),
            protocol: fc.oneof(
              fc.constantFrom("tcp", "udp", "icmp", "icmpv6", "raw", "ip"),
              fc.integer({ min: 0, max: 255 }),
            ),
            ...Object.fromEntries(GAI_FLAGS.map((flag) => [flag, fc.boolean()])),
          }, { requiredKeys: [] }),
        },
        // Anything in any field: the validator answers.
        {
          weight: 1,
          arbitrary: options({
            family: fc.constantFrom("inet", "inet6", "unix"),
            port: fc.oneof(port, fc.constantFrom(...SERVICES), fc.integer({ min: -5, max: 70000 })),
            type: fc.constantFrom("tcp", "udp", "raw", "sctp"),
            protocol: fc.oneof(fc.constantFrom("esp", "tcp"), fc.integer({ min: -1, max: 300 })),
            ...Object.fromEntries(GAI_FLAGS.map((flag) => [flag, fc.boolean()])),
          }),
        },
      ),
      async (name, opts) => {
        fc.pre(!wouldLookUp(name)); // no queries to real DNS servers
        const result = await outcome(() => resolve(name as string, opts as never));
        if (!result.ok) {
          assert.ok(
            ["invalid_argument", "name_not_resolved"].includes(result.error.code),
            result.error.message,
          );
          return;
        }
        const asked = (opts ?? {}) as Record<string, unknown>;
        assert.ok(result.value.length > 0);
        for (const entry of result.value) {
          assert.ok(["inet", "inet6"].includes(entry.family));
          assert.equal(typeof entry.address, "string");
          if (typeof asked.type === "string") assert.equal(entry.type, asked.type);
          if (entry.type !== undefined) {
            assert.ok(["tcp", "udp", "raw"].includes(entry.type));
            assert.ok(Number.isInteger(entry.protocol));
          }
          if (asked.canonicalName === true) assert.equal(typeof entry.canonicalName, "string");
          else assert.equal(entry.canonicalName, undefined);
          if (asked.port !== undefined) {
            assert.ok(Number.isInteger(entry.port) && entry.port! >= 0 && entry.port! <= 65535);
          } else assert.equal(entry.port, undefined);
          if (asked.family === "inet6") assert.equal(entry.family, "inet6");
        }
      },
    ),
    PARAMS,
  );
  await lookupsSettled();
});

Deno.test("resolve: a bad getaddrinfo option is invalid_argument naming it, whatever else is given", async () => {
  const bad = fc.constantFrom<[string, unknown]>(
    ["type", "sctp"],
    ["type", 1],
    ["protocol", 256],
    ["protocol", "esp"],
    ["port", "no such"],
    ["port", "99999"],
    ["canonicalName", "yes"],
    ["passive", 1],
    ["numericHost", "true"],
    ["numericService", 0],
    ["v4Mapped", null],
    ["addrConfig", {}],
    ["all", []],
  );
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(fc.ipV4(), fc.constant("localhost")),
      bad,
      fc.record(
        Object.fromEntries(GAI_FLAGS.map((flag) => [flag, fc.boolean()])),
        { requiredKeys: [] },
      ),
      async (name, [field, value], rest) => {
        const result = await outcome(() => resolve(name, { ...rest, [field]: value } as never));
        assertInvalid(result, `resolve(${label(name)}, { ${field}: ${label(value)} })`);
        if (!result.ok) assert.equal(result.error.field, field);
      },
    ),
    PARAMS,
  );
});

Deno.test("errorCodeOf classifies any thrown value without throwing; interfaces() lists addresses", () => {
  fc.assert(
    fc.property(anything, fc.string(), fc.string(), (value, name, message) => {
      assert.equal(typeof errorCodeOf(value), "string");
      const error = Object.assign(new Error(message), { name, code: name });
      assert.equal(typeof errorCodeOf(error), "string");
    }),
    PARAMS,
  );
  assert.ok(interfaces().some((entry) => entry.address === "127.0.0.1"));
});

// --- Stream -------------------------------------------------------------------

type Call = [string, (stream: Stream) => unknown];

const max = fc.oneof(fc.integer({ min: 1, max: 70_000 }), anything);
const data = fc.oneof(
  fc.uint8Array({ maxLength: 70_000 }),
  fc.string({ maxLength: 200 }),
  anything,
);

/** One call of a Stream method with arbitrary arguments. */
const streamCall: fc.Arbitrary<Call> = fc.oneof(
  fc.tuple(max, deadlineOptions).map(([n, o]): Call => [
    `read(${label(n)})`,
    (s) => s.read(n as number, o as never),
  ]),
  fc.tuple(fc.oneof(fc.uint8Array({ minLength: 0, maxLength: 100 }), anything), deadlineOptions)
    .map(([b, o]): Call => ["readInto", (s) => s.readInto(b as Uint8Array, o as never)]),
  fc.tuple(fc.oneof(fc.integer({ min: 0, max: 200 }), anything), deadlineOptions).map((
    [n, o],
  ): Call => [`readExact(${label(n)})`, (s) => s.readExact(n as number, o as never)]),
  fc.tuple(fc.oneof(fc.integer({ min: 0, max: 200 }), anything)).map(([n]): Call => [
    `readExact(${label(n)}) fast`,
    (s) => s.readExact(n as number),
  ]),
  deadlineOptions.map((o): Call => ["readAll", (s) => s.readAll(o as never)]),
  fc.tuple(
    fc.oneof(fc.string({ maxLength: 3 }), fc.uint8Array({ maxLength: 3 }), anything),
    options({ timeout: fc.nat(100), maxBytes: fc.oneof(fc.integer(), anything) }),
  ).map(([d, o]): Call => ["readUntil", (s) => s.readUntil(d as string, o as never)]),
  options({ timeout: fc.nat(100), maxBytes: fc.integer() }).map((o): Call => [
    "readLine",
    (s) => s.readLine(o as never),
  ]),
  fc.tuple(data, deadlineOptions).map(([d, o]): Call => [
    "write",
    (s) => s.write(d as Uint8Array, o as never),
  ]),
  fc.tuple(data, deadlineOptions).map(([d, o]): Call => [
    "writeAll",
    (s) => s.writeAll(d as Uint8Array, o as never),
  ]),
  fc.oneof(fc.constantFrom("r", "w", "rw"), anything).map((how): Call => [
    `shutdown(${label(how)})`,
    (s) => s.shutdown(how as "w"),
  ]),
);

Deno.test("Stream methods with arbitrary arguments, in any order, succeed or fail with a NetError", async () => {
  const payload = new Uint8Array(100_000).map((_, i) => (i * 7) & 255);
  await fc.assert(
    fc.asyncProperty(fc.array(streamCall, { minLength: 1, maxLength: 6 }), async (calls) => {
      const [ours, peer] = await socketpair();
      try {
        // Everything a read may wait for is already there: data, then end of stream.
        const feeding = peer.writeAll(payload).then(() => peer.shutdown("w")).catch(() => {});
        const draining = (async () => {
          while (await peer.read(65536) !== null);
        })().catch(() => {});
        for (const [name, call] of calls) {
          const result = await outcome(() => call(ours));
          if (!result.ok && result.error.code === "invalid_argument") {
            assert.ok(result.error.field, `${name}: invalid_argument names no field`);
          }
        }
        ours.close();
        await feeding;
        peer.close();
        await draining;
      } finally {
        ours.close();
        peer.close();
      }
    }),
    PARAMS,
  );
});

Deno.test("Stream length arguments that are not non-negative integers are invalid_argument, never misread", async () => {
  const bad = fc.oneof(
    fc.double({ noInteger: true }),
    fc.constantFrom(-1, NaN, Infinity, "3", 2n, null, {}, [4], true),
  );
  await fc.assert(
    fc.asyncProperty(bad, fc.boolean(), async (n, buffered) => {
      const [ours, peer] = await socketpair();
      try {
        await peer.writeAll("0123456789");
        if (buffered) assert.equal((await ours.read(1))?.length, 1); // pulls the rest into the buffer
        assertInvalid(await outcome(() => ours.readExact(n as number)), `readExact(${label(n)})`);
        assertInvalid(await outcome(() => ours.read(n as number)), `read(${label(n)})`);
        // Nothing was consumed by the rejected calls.
        const rest = buffered ? "123456789" : "0123456789";
        assert.equal(new TextDecoder().decode(await ours.readExact(rest.length)), rest);
      } finally {
        ours.close();
        peer.close();
      }
    }),
    PARAMS,
  );
});

Deno.test("a read with any valid timeout, however large, waits for the data instead of timing out early", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(
        fc.integer({ min: 1000, max: 2 ** 31 - 1 }),
        fc.double({ min: 2 ** 31, max: 1e15, noNaN: true }),
      ),
      async (timeout) => {
        assert.ok(validDeadline({ timeout }));
        const [ours, peer] = await socketpair();
        try {
          const reading = outcome(() => ours.read(16, { timeout }));
          // The peer writes only after a 5 ms timer: a deadline that fires early loses.
          await new Promise((resolve) => setTimeout(resolve, 5));
          await peer.writeAll("late");
          const result = await reading;
          assert.ok(
            result.ok,
            `timeout ${timeout} fired early: ${!result.ok && result.error.message}`,
          );
          assert.equal(new TextDecoder().decode(result.value!), "late");
        } finally {
          ours.close();
          peer.close();
        }
      },
    ),
    params(30),
  );
});
