/**
 * curl over HTTPS: a disk image on a web server whose certificate a trusted CA signed is read
 * unchanged, and one the server cannot check (its CA is not trusted) is refused when the
 * export opens. nbdts trusts the runtime's CAs, which NODE_EXTRA_CA_CERTS (Node, Bun) and
 * DENO_CERT (Deno) extend; nbdkit is given the same CA with cainfo=, which nbdts refuses.
 */

import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { captive, expectSuccess, scratchDir } from "../helpers/captive.ts";
import { startHttpDisk } from "../helpers/http-disk-server.ts";
import { requireClients, servers } from "../helpers/servers.ts";
import { makePki, type Pki } from "../helpers/tls-pki.ts";

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

let pki: Pki | undefined;
afterAll(() => pki?.remove());

/** The web server's certificate (for localhost and 127.0.0.1) and key, from the test CA. */
function serverTls() {
  pki ??= makePki();
  const pem = (name: string) => readFileSync(join(pki!.serverDir, name), "utf8");
  return { cert: pem("server-cert.pem"), key: pem("server-key.pem") };
}

describe.each(servers)("curl plugin reads over HTTPS ($name)", (server) => {
  test("a disk on a server with a trusted certificate reads unchanged", async (context) => {
    requireClients(context, "nbdcopy", "certtool");
    const image = randomBytes(2 * 1024 * 1024 + 512);
    const web = await startHttpDisk(image, { tls: serverTls() });
    expect(web.url).toMatch(/^https:\/\/localhost:\d+\//);
    const ca = join(pki!.serverDir, "ca-cert.pem");
    const trust = server.name === "nbdkit" ? [`cainfo=${ca}`] : [];
    const copy = join(scratchDir(), "copy.img");
    expectSuccess(
      await captive(server, ["-r", "curl", web.url, ...trust], `nbdcopy "$uri" ${copy}`, {
        env: { NODE_EXTRA_CA_CERTS: ca, DENO_CERT: ca },
      }),
    );
    expect(sha256(readFileSync(copy))).toBe(sha256(image));
    expect(web.requests.some((request) => request.method === "GET")).toBe(true);
  });

  test("a certificate no trusted CA signed is refused when the export opens", async (context) => {
    requireClients(context, "nbdinfo", "certtool");
    const web = await startHttpDisk(randomBytes(4096), { tls: serverTls() });
    const result = await captive(server, ["-r", "curl", web.url], `nbdinfo --size "$uri"`);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/problem doing HEAD request to fetch size of URL \[https:/);
    expect(result.stderr).toMatch(/certificate|issuer/i);
    expect(web.requests).toEqual([]); // nothing was sent to a server not known to be it
  });
});
