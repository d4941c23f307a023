/**
 * Test certificates made at test time with openssl into a temp dir (never
 * committed): a CA, a leaf for localhost/127.0.0.1, an expired leaf, a leaf
 * for another name, a self-signed leaf and a client certificate.
 */

import { listenTls, type ListenTlsOptions, type TlsListener } from "../tcp/mod.ts";

/** PEM text of one certificate and its key, and their paths. */
export interface Pair {
  cert: string;
  key: string;
  certFile: string;
  keyFile: string;
}

/** Everything one test run needs. */
export interface TestCerts {
  dir: string;
  ca: string;
  caFile: string;
  leaf: Pair;
  expired: Pair;
  wrongName: Pair;
  selfSigned: Pair;
  client: Pair;
  /** Removes the directory. */
  remove(): Promise<void>;
}

async function openssl(dir: string, args: string[]): Promise<void> {
  const out = await new Deno.Command("openssl", { args, cwd: dir, stdout: "null", stderr: "piped" })
    .output();
  if (!out.success) {
    throw new Error(`openssl ${args[0]} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
}

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];

async function issue(
  dir: string,
  name: string,
  cn: string,
  ext: string,
  days: number,
): Promise<Pair> {
  await openssl(dir, [
    "req",
    ...EC,
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.csr`,
    "-subj",
    `/CN=${cn}`,
  ]);
  await Deno.writeTextFile(`${dir}/${name}.ext`, ext);
  await openssl(dir, [
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-days",
    String(days),
    "-extfile",
    `${name}.ext`,
    "-out",
    `${name}.pem`,
  ]);
  return pair(dir, name);
}

async function pair(dir: string, name: string): Promise<Pair> {
  const certFile = `${dir}/${name}.pem`;
  const keyFile = `${dir}/${name}.key`;
  return {
    cert: await Deno.readTextFile(certFile),
    key: await Deno.readTextFile(keyFile),
    certFile,
    keyFile,
  };
}

const SERVER_EXT = "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n";

/** Makes the certificate set in a fresh temp dir. */
export async function makeCerts(): Promise<TestCerts> {
  const dir = await Deno.makeTempDir({ prefix: "netkit-tls-" });
  await openssl(dir, [
    "req",
    "-x509",
    ...EC,
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    "-days",
    "2",
    "-subj",
    "/CN=netkit test CA",
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ]);
  const [leaf, expired, wrongName, client] = [
    await issue(dir, "leaf", "localhost", SERVER_EXT, 2),
    await issue(dir, "expired", "localhost", SERVER_EXT, -1),
    await issue(dir, "wrong", "other.example", "subjectAltName=DNS:other.example\n", 2),
    await issue(dir, "client", "netkit client", "extendedKeyUsage=clientAuth\n", 2),
  ];
  await openssl(dir, [
    "req",
    "-x509",
    ...EC,
    "-keyout",
    "self.key",
    "-out",
    "self.pem",
    "-days",
    "2",
    "-subj",
    "/CN=localhost",
    "-addext",
    "subjectAltName=DNS:localhost,IP:127.0.0.1",
  ]);
  const selfSigned = await pair(dir, "self");
  const caFile = `${dir}/ca.pem`;
  return {
    dir,
    ca: await Deno.readTextFile(caFile),
    caFile,
    leaf,
    expired,
    wrongName,
    selfSigned,
    client,
    remove: () => Deno.remove(dir, { recursive: true }),
  };
}

/**
 * A TLS listener on 127.0.0.1 (a free port) serving `pair`, with any other
 * `listenTls` options.
 */
export function tlsServer(
  pair: Pair,
  extra: Omit<ListenTlsOptions, "cert" | "key"> = {},
): TlsListener {
  return listenTls({ hostname: "127.0.0.1", port: 0, cert: pair.cert, key: pair.key, ...extra });
}

/**
 * Whether this run's clients trust the test CA through the runtime's roots
 * (`NETKIT_TLS_TRUST=roots`, as tests/tcp_tls_engines_test.ts runs the TLS
 * suites: netkit's client then uses Deno's own TLS) rather than `caCerts`
 * (then it uses `node:tls`, which can trust exactly them).
 */
export const RUNTIME_ROOTS = Deno.env.get("NETKIT_TLS_TRUST") === "roots";

/**
 * The client options that trust the test CA: `{ caCerts }`, or none when
 * {@linkcode RUNTIME_ROOTS} (the CA is then put in `DENO_CERT`, which Deno
 * reads at the first TLS handshake of the process).
 */
export function trust(certs: TestCerts): { caCerts?: string[] } {
  if (!RUNTIME_ROOTS) return { caCerts: [certs.ca] };
  Deno.env.set("DENO_CERT", certs.caFile);
  return {};
}

/**
 * Waits until `count()` is back to `want` (up to two seconds), and returns
 * what it is then. Deno releases a closed `TlsConn`'s socket from a task of
 * its own: a server's a turn of the event loop after `close()`, a TLS 1.3
 * client's 100 ms later (Deno's own client engine, used without `caCerts`):
 * the runtime keeps it that long so that a server's last handshake message
 * cannot reset the connection (close_notify and FIN have already gone). No
 * event tells when, so this looks again every few milliseconds.
 */
export async function released(count: () => number, want: number): Promise<number> {
  for (let i = 0; i < 400 && count() !== want; i++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return count();
}
