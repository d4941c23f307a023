/**
 * A throwaway CA and a certificate for localhost/127.0.0.1, made with
 * openssl into a temp dir that `remove()` deletes (the TLS samples use it).
 *
 * @module
 */

/** The PEM texts the samples need. */
export interface SampleCert extends AsyncDisposable {
  /** The CA certificate clients trust. */
  ca: string;
  /** The server's certificate. */
  cert: string;
  /** The server's private key. */
  key: string;
}

async function openssl(dir: string, args: string[]): Promise<void> {
  const { success, stderr } = await new Deno.Command("openssl", {
    args,
    cwd: dir,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!success) throw new Error(`openssl ${args[0]}: ${new TextDecoder().decode(stderr)}`);
}

/** Makes a CA and a localhost certificate signed by it. */
export async function sampleCert(): Promise<SampleCert> {
  const dir = await Deno.makeTempDir({ prefix: "netkit-tls-sample-" });
  try {
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
    await openssl(dir, [
      "req",
      "-x509",
      ...ec,
      "-keyout",
      "ca.key",
      "-out",
      "ca.pem",
      "-days",
      "1",
      "-subj",
      "/CN=netkit sample CA",
    ]);
    await openssl(dir, [
      "req",
      ...ec,
      "-keyout",
      "key.pem",
      "-out",
      "leaf.csr",
      "-subj",
      "/CN=localhost",
    ]);
    await Deno.writeTextFile(`${dir}/ext`, "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
    await openssl(dir, [
      "x509",
      "-req",
      "-in",
      "leaf.csr",
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-days",
      "1",
      "-extfile",
      "ext",
      "-out",
      "cert.pem",
    ]);
    const [ca, cert, key] = await Promise.all(
      ["ca.pem", "cert.pem", "key.pem"].map((name) => Deno.readTextFile(`${dir}/${name}`)),
    );
    return { ca, cert, key, [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }) };
  } catch (error) {
    await Deno.remove(dir, { recursive: true });
    throw error;
  }
}
