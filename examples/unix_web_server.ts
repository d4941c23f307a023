/**
 * Racket's `make-unix-socket-tcp@` sample on netkit: a web server that listens
 * on a unix socket (`/var/server.sock` there, a temporary directory here)
 * with a small dispatcher, and a client that talks to it with `fetch` through
 * `unix.client` (what `curl --unix-socket` does).
 *
 * Run: `deno run -A examples/unix_web_server.ts`
 *
 * @module
 */

import { client, serve } from "../unix/mod.ts";

/** The dispatcher: a few routes, 404 for the rest. */
function dispatch(request: Request): Response {
  const url = new URL(request.url);
  if (url.pathname === "/") return new Response("netkit web server on a unix socket\n");
  if (url.pathname === "/hello") {
    return Response.json({ hello: url.searchParams.get("name") ?? "world" });
  }
  if (url.pathname === "/echo" && request.method === "POST") {
    return new Response(request.body, { headers: { "content-type": "text/plain" } });
  }
  return new Response("not found\n", { status: 404 });
}

/** Serves on a fresh socket, fetches four URLs through it; returns what came back. */
export async function demo(): Promise<string[]> {
  const lines: string[] = [];
  const dir = await Deno.makeTempDir({ prefix: "netkit-web-" });
  try {
    const path = `${dir}/var/server.sock`;
    const server = await serve(path, dispatch, { mkdir: true, mode: 0o660 });
    try {
      const mode = ((await Deno.stat(path)).mode! & 0o777).toString(8);
      lines.push(`serving on ${path.slice(dir.length + 1)} (mode ${mode})`);
      using http = client(path);
      const get = async (url: string, init: RequestInit = {}): Promise<string> => {
        const response = await fetch(url, { ...init, client: http });
        return `${init.method ?? "GET"} ${new URL(url).pathname} -> ${response.status} ${
          (await response.text()).trim()
        }`;
      };
      lines.push(await get("http://localhost/"));
      lines.push(await get("http://localhost/hello?name=racket"));
      lines.push(await get("http://localhost/echo", { method: "POST", body: "posted body" }));
      lines.push(await get("http://localhost/missing"));
    } finally {
      await server.shutdown();
    }
    const left = await Deno.lstat(path).then(() => "still there", () => "removed");
    lines.push(`server shut down, socket path ${left}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  return lines;
}

if (import.meta.main) {
  for (const line of await demo()) console.log(line);
}
