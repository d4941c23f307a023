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
