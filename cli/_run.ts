/**
 * The verbs of `nk` and what they share: the interrupt signal, `-v`
 * logging, `--progress`, and the serving loops of listening addresses.
 *
 * @module
 */

import { nativeSupport, NetError, resolve, VERSION } from "../mod.ts";
import { type Address, asListening, isListening, parseCliAddress, splitWords } from "./_address.ts";
import { checkFlags, type CommandLine, type Flags, parseCommandLine } from "./_args.ts";
import { EXIT, exitCodeOf, messageOf, UsageError } from "./_errors.ts";
import { OVERVIEW, VERBS } from "./_help.ts";
import { type End, execWithSocket, type HandedOver, openAcceptor, openEnd } from "./_open.ts";
import { ping } from "./_ping.ts";
import { probePath, type ProbeState } from "./_probe.ts";
import { relay } from "./_relay.ts";

/** How long a datagram side is still read after the other side ended (socat's -t). */
const UDP_LINGER = 500;

/** Formats a byte count for people. */
function human(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** One run of the command: flags, the interrupt, logging and progress. */
class Session {
  readonly flags: Flags;
  readonly #controller = new AbortController();
  /** 130 or 143 once interrupted. */
  interrupted: number | undefined;
  #connections = 0;
  #open = 0;
  #bytes = 0;
  #started = performance.now();
  #ticker: ReturnType<typeof setInterval> | undefined;
  #lastBytes = 0;
  #lastTick = performance.now();
  #terminal = Deno.stderr.isTerminal();
  #listeners: [Deno.Signal, () => void][] = [];

  constructor(flags: Flags) {
    this.flags = flags;
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Ctrl-C and SIGTERM stop everything cleanly; a second one exits at once. */
  trapSignals(): void {
    const signals: [Deno.Signal, number][] = [["SIGINT", EXIT.interrupted]];
    if (Deno.build.os !== "windows") signals.push(["SIGTERM", EXIT.terminated]);
    for (const [name, code] of signals) {
      const onSignal = () => {
        if (this.interrupted !== undefined) Deno.exit(this.interrupted);
        this.interrupted = code;
        this.#controller.abort(
          new NetError("aborted", `interrupted by ${name}`, { op: "nk" }),
        );
      };
      Deno.addSignalListener(name, onSignal);
      this.#listeners.push([name, onSignal]);
    }
  }

  /** Undoes {@linkcode trapSignals} and stops the progress line. */
  dispose(): void {
    for (const [name, onSignal] of this.#listeners) Deno.removeSignalListener(name, onSignal);
    this.#listeners = [];
    if (this.#ticker !== undefined) {
      clearInterval(this.#ticker);
      this.#ticker = undefined;
      const seconds = (performance.now() - this.#started) / 1000;
      this.#progressLine(
        `${human(this.#bytes)} in ${seconds.toFixed(1)} s, ${
          human(this.#bytes / Math.max(seconds, 0.001))
        }/s`,
        true,
      );
    }
  }

  /** A line on stderr, always. */
  say(message: string): void {
    console.error(`nk: ${message}`);
  }

  /** A line on stderr with `-v`. */
  log(message: string): void {
    if (this.flags.verbose) this.say(message);
  }

  nextConnection(): number {
    return ++this.#connections;
  }

  startProgress(): void {
    if (!this.flags.progress || this.#ticker !== undefined) return;
    this.#ticker = setInterval(() => {
      const now = performance.now();
      const rate = (this.#bytes - this.#lastBytes) / Math.max((now - this.#lastTick) / 1000, 0.001);
      this.#lastBytes = this.#bytes;
      this.#lastTick = now;
      this.#progressLine(`${human(this.#bytes)}, ${human(rate)}/s, ${this.#open} open`, false);
    }, 1000);
  }

  #progressLine(text: string, last: boolean): void {
    const line = `nk: ${text}`;
    if (this.#terminal) {
      Deno.stderr.writeSync(new TextEncoder().encode(`\r${line}\x1b[K${last ? "\n" : ""}`));
    } else console.error(line);
  }

  readonly countBytes = (n: number): void => {
    this.#bytes += n;
  };

  /**
   * Why an `exec:` child gets pipes that nk pumps rather than the peer's
   * socket itself, or `undefined` when the socket can go to the child.
   */
  pipeReason(): string | undefined {
    // Both flags need nk to see every byte.
    if (this.flags.progress) return "--progress counts the bytes";
    if (this.flags.timeout !== undefined) return "--timeout watches the bytes";
    const support = nativeSupport();
    if (!support.available) return support.reason;
    // The library starts such a child through node:child_process, which reads the environment.
    if (Deno.permissions.querySync({ name: "env" }).state !== "granted") {
      return "handing a socket to a child needs --allow-env";
    }
    return undefined;
  }

  /**
   * Starts the `exec:` child `argv` with `peer`'s socket itself when that
   * can be done; `undefined`: relay through pipes instead (`-v` says why).
   */
  async handOver(id: number, peer: End, argv: string[]): Promise<HandedOver | undefined> {
    const why = this.pipeReason();
    if (why === undefined) {
      const child = await execWithSocket(argv, peer.socket!, this.signal);
      if (child !== undefined) return child;
    }
    this.log(
      `[${id}] exec: gets pipes, not the socket (${why ?? "the library cannot hand it over"})`,
    );
    return undefined;
  }

  /** Waits for a child that has the peer's socket and logs it; the exit code of that connection. */
  async watchChild(id: number, names: string, child: HandedOver): Promise<number> {
    this.log(`[${id}] ${names} (socket handed over)`);
    this.#open++;
    const started = performance.now();
    const status = await child.wait();
    this.#open--;
    const seconds = ((performance.now() - started) / 1000).toFixed(3);
    const notes = [this.interrupted === undefined ? "" : "interrupted", status]
      .filter((note) => note !== "").map((note) => ` (${note})`).join("");
    this.log(`[${id}] ${names} closed: socket handed over, ${seconds} s${notes}`);
    return this.interrupted ?? EXIT.ok;
  }

  /** Relays two opened ends and logs it; resolves to the exit code of that connection. */
  async relayEnds(id: number, a: End, b: End): Promise<number> {
    this.log(`[${id}] ${a.label} <-> ${b.label}`);
    this.#open++;
    const outcome = await relay(a, b, {
      signal: this.signal,
      idle: this.flags.timeout,
      linger: this.flags.timeout ?? UDP_LINGER,
      onBytes: this.flags.progress ? this.countBytes : undefined,
    });
    this.#open--;
    const notes = [a.note, b.note].filter((note) => note !== undefined);
    this.log(
      `[${id}] ${a.label} <-> ${b.label} closed: ${outcome.forward} B ->, ${outcome.backward} B <-, ${
        (outcome.ms / 1000).toFixed(3)
      } s${outcome.reason === "done" ? "" : ` (${outcome.reason})`}${
        notes.length > 0 ? ` (${notes.join(", ")})` : ""
      }`,
    );
    if (outcome.reason === "interrupted") return this.interrupted ?? EXIT.interrupted;
    if (outcome.error !== undefined) {
      this.say(`[${id}] ${messageOf(outcome.error)}`);
      return exitCodeOf(outcome.error);
    }
    return EXIT.ok;
  }
}

/** How many peers a listening address serves. */
type Mode = "one" | "keep" | "fork";

/** Opens the other side for an accepted peer and relays; `first` says which side was accepted. */
async function serveOne(
  session: Session,
  peer: End,
  other: Address,
  peerFirst: boolean,
): Promise<number> {
  const id = session.nextConnection();
  let end: End;
  let child: HandedOver | undefined;
  try {
    if (other.kind === "exec" && peer.socket !== undefined) {
      child = await session.handOver(id, peer, other.argv!);
    }
    if (child === undefined) {
      end = await openEnd(other, { signal: session.signal, timeout: session.flags.timeout });
    }
  } catch (error) {
    await peer.close(true);
    if (session.interrupted !== undefined) return session.interrupted;
    session.say(`[${id}] ${peer.label}: ${messageOf(error)}`);
    return exitCodeOf(error);
  }
  if (child !== undefined) {
    const names = peerFirst
      ? `${peer.label} <-> ${child.label}`
      : `${child.label} <-> ${peer.label}`;
    return await session.watchChild(id, names, child);
  }
  return peerFirst ? session.relayEnds(id, peer, end!) : session.relayEnds(id, end!, peer);
}

/** `relay A B` and the verbs built on it. */
async function runRelay(session: Session, a: Address, b: Address, mode: Mode): Promise<number> {
  const listening = isListening(a.kind) ? a : isListening(b.kind) ? b : undefined;
  if (listening === undefined) {
    if (mode !== "one") {
      throw new UsageError(
        `--${mode} needs a listening address (tcp-listen:, unix-listen:, abstract-listen:, ...)`,
      );
    }
    const context = { signal: session.signal, timeout: session.flags.timeout };
    // An exec: child is started last, so it can be given the other side's socket.
    const execFirst = a.kind === "exec" && b.kind !== "exec";
    const [early, late] = execFirst ? [b, a] : [a, b];
    const opened = await openEnd(early, context);
    const id = session.nextConnection();
    let other: End;
    let child: HandedOver | undefined;
    try {
      if (late.kind === "exec" && opened.socket !== undefined) {
        child = await session.handOver(id, opened, late.argv!);
      }
      if (child === undefined) other = await openEnd(late, context);
    } catch (error) {
      await opened.close(true);
      throw error;
    }
    if (child !== undefined) {
      const names = execFirst
        ? `${child.label} <-> ${opened.label}`
        : `${opened.label} <-> ${child.label}`;
      return await session.watchChild(id, names, child);
    }
    session.startProgress();
    return execFirst
      ? await session.relayEnds(id, other!, opened)
      : await session.relayEnds(id, opened, other!);
  }
  const other = listening === a ? b : a;
  const acceptor = await openAcceptor(listening);
  session.log(`listening on ${acceptor.label}`);
  if (acceptor.single && mode !== "one") {
    await acceptor.close();
    throw new UsageError(`${listening.kind}: serves one peer; --keep and --fork do not apply`);
  }
  session.startProgress();
  const active = new Set<Promise<number>>();
  try {
    if (mode === "one") {
      let peer: End;
      try {
        peer = await acceptor.accept(session.signal);
      } finally {
        await acceptor.close();
      }
      return await serveOne(session, peer, other, listening === a);
    }
    for (;;) {
      let peer: End;
      try {
        peer = await acceptor.accept(session.signal);
      } catch (error) {
        if (session.interrupted !== undefined) return session.interrupted;
        if (error instanceof NetError && error.code === "resource_exhausted" && active.size > 0) {
          // Out of descriptors: wait for a connection to give one back.
          session.say(messageOf(error));
          await Promise.race(active);
          continue;
        }
        throw error;
      }
      const serving = serveOne(session, peer, other, listening === a);
      if (mode === "keep") {
        await serving;
      } else {
        active.add(serving);
        serving.finally(() => active.delete(serving));
      }
      if (session.interrupted !== undefined) return session.interrupted;
    }
  } finally {
    await acceptor.close();
    await Promise.all(active);
  }
}

function operands(line: CommandLine, verb: string, names: string[]): string[] {
  if (line.operands.length !== names.length) {
    throw new UsageError(
      `nk ${verb} takes ${names.join(" ")}, got ${line.operands.length} operand${
        line.operands.length === 1 ? "" : "s"
      } (nk ${verb} --help)`,
    );
  }
  return line.operands;
}

function modeOf(flags: Flags): Mode {
  return flags.fork ? "fork" : flags.keep ? "keep" : "one";
}

async function connectVerb(session: Session, line: CommandLine): Promise<number> {
  const [text] = operands(line, "connect", ["ADDR"]);
  const address = parseCliAddress(text);
  if (isListening(address.kind)) {
    throw new UsageError(`"${text}" is a listening address: use nk listen ${text}`);
  }
  return await runRelay(session, parseCliAddress("-"), address, "one");
}

async function listenVerb(session: Session, line: CommandLine): Promise<number> {
  const [text] = operands(line, "listen", ["ADDR"]);
  const address = asListening(parseCliAddress(text));
  let other: Address;
  if (line.flags.exec !== undefined) {
    const argv = splitWords(line.flags.exec, "--exec");
    other = { kind: "exec", text: `exec:${line.flags.exec}`, argv, options: {} };
  } else other = parseCliAddress("-");
  const mode = modeOf(line.flags);
  if (mode === "fork" && other.kind === "stdio") {
    throw new UsageError("--fork needs --exec CMD: concurrent peers cannot share stdin/stdout");
  }
  return await runRelay(session, address, other, mode);
}

async function relayVerb(session: Session, line: CommandLine): Promise<number> {
  const [first, second] = operands(line, "relay", ["A", "B"]);
  const a = parseCliAddress(first);
  const b = parseCliAddress(second);
  const mode = modeOf(line.flags);
  if (mode === "fork" && (a.kind === "stdio" || b.kind === "stdio")) {
    throw new UsageError("--fork cannot share stdin/stdout between peers: use exec: or a socket");
  }
  return await runRelay(session, a, b, mode);
}

const PROBE_EXIT: Record<ProbeState, number> = {
  live: EXIT.ok,
  stale: EXIT.unreachable,
  "not-a-socket": EXIT.failure,
  missing: EXIT.unreachable,
};

async function probeVerb(session: Session, line: CommandLine): Promise<number> {
  const [text] = operands(line, "probe", ["unix:PATH"]);
  const address = parseCliAddress(text);
  if (address.kind !== "unix") {
    throw new UsageError(`nk probe takes unix:PATH or abstract:NAME, not "${text}"`);
  }
  if (Object.keys(address.options).length > 0) {
    throw new UsageError(`nk probe takes no address options ("${text}")`);
  }
  const result = await probePath(address.path!, session.flags.timeout);
  console.log(`${result.state} ${address.path} (${result.note})`);
  return PROBE_EXIT[result.state];
}

async function resolveVerb(session: Session, line: CommandLine): Promise<number> {
  const [name] = operands(line, "resolve", ["NAME"]);
  const family = session.flags.family;
  const support = nativeSupport();
  // The canonical name comes from getaddrinfo(3), which needs the native layer.
  const found = await resolve(name, {
    ...(family === undefined ? {} : { family }),
    ...(support.available ? { canonicalName: true } : {}),
  });
  // getaddrinfo gives an entry per socket type: each address once, in order.
  const seen = new Set<string>();
  for (const entry of found) {
    if (seen.has(entry.address)) continue;
    seen.add(entry.address);
    console.log(session.flags.verbose ? `${entry.address} ${entry.family}` : entry.address);
  }
  const canonical = found[0]?.canonicalName;
  if (canonical !== undefined) console.log(`canonical name: ${canonical}`);
  else session.say(`no canonical name (${support.reason ?? "the resolver gave none"})`);
  return EXIT.ok;
}

async function pingVerb(session: Session, line: CommandLine): Promise<number> {
  const [host] = operands(line, "ping", ["HOST"]);
  if (host === "") throw new UsageError("nk ping needs a HOST");
  const { count = 4, interval = 1000, timeout = 1000, family } = session.flags;
  const replies = await ping({
    host,
    family,
    count,
    intervalMs: interval,
    waitMs: timeout,
    signal: session.signal,
    print: (text) => console.log(text),
  });
  if (session.interrupted !== undefined) return session.interrupted;
  // As ping: 0 when a reply came back, 1 when none did.
  return replies > 0 ? EXIT.ok : EXIT.failure;
}

const VERB_RUNNERS: Record<string, (session: Session, line: CommandLine) => Promise<number>> = {
  connect: connectVerb,
  listen: listenVerb,
  relay: relayVerb,
  probe: probeVerb,
  resolve: resolveVerb,
  ping: pingVerb,
};

/**
 * Runs `nk` with the given arguments and returns the exit code; failures
 * are printed as one line on stderr.
 *
 * @param args The arguments after the program name.
 * @returns The exit code.
 */
export async function run(args: readonly string[]): Promise<number> {
  let line: CommandLine;
  try {
    line = parseCommandLine(args);
    if (line.flags.version) {
      console.log(`nk (netkit) ${VERSION}`);
      return EXIT.ok;
    }
    const verb = line.verb;
    if (verb === "help") {
      const topic = line.operands[0];
      if (topic !== undefined && !(topic in VERBS)) throw new UsageError(`no verb "${topic}"`);
      console.log(topic === undefined ? OVERVIEW : VERBS[topic]);
      return EXIT.ok;
    }
    if (verb === undefined) {
      if (line.flags.help) {
        console.log(OVERVIEW);
        return EXIT.ok;
      }
      throw new UsageError(
        "no verb given (connect, listen, relay, probe, resolve, ping; nk --help)",
      );
    }
    if (!(verb in VERB_RUNNERS)) {
      throw new UsageError(
        `unknown verb "${verb}" (connect, listen, relay, probe, resolve, ping; nk --help)`,
      );
    }
    if (line.flags.help) {
      console.log(VERBS[verb]);
      return EXIT.ok;
    }
    checkFlags(verb, line);
  } catch (error) {
    console.error(`nk: ${messageOf(error)}`);
    return exitCodeOf(error);
  }
  const session = new Session(line.flags);
  session.trapSignals();
  try {
    return await VERB_RUNNERS[line.verb!](session, line);
  } catch (error) {
    if (session.interrupted !== undefined) return session.interrupted;
    console.error(`nk: ${messageOf(error)}`);
    return exitCodeOf(error);
  } finally {
    session.dispose();
  }
}
