/**
 * --tls-verify-peer with a ca-crl.pem in the certificate directory: a client whose certificate
 * the CA revoked is refused, and one with a valid certificate is served (nbdkit-tls(1)). Deno's
 * TLS (rustls behind node:tls) ignores revocation lists, so there the server refuses to start
 * rather than let revoked clients in.
 */

import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { captive } from "../helpers/captive.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";
import { makePki, type Pki, revokedClient } from "../helpers/tls-pki.ts";

let pki: Pki;
let revoked: { clientDir: string; serverDir: string };
beforeAll(() => {
  pki = makePki();
  revoked = revokedClient(pki);
});
afterAll(() => pki.remove());

const verifyPeerWithCrl = () => [
  "--tls=require",
  `--tls-certificates=${revoked.serverDir}`,
  "--tls-verify-peer",
];

/** Deno's node:tls takes a `crl` option and never checks it. */
const ignoresRevocation = (name: string) => name === "nbdts-deno";

describe.each(servers)("--tls-verify-peer with ca-crl.pem ($name)", (server) => {
  test("a revoked client certificate is refused; a valid one is served after it", async (context) => {
    requireClients(context, "python3");
    if (ignoresRevocation(server.name)) {
      return context.skip("Deno cannot check revocation: it refuses to start (next test)");
    }
    const dirs = { revoked: revoked.clientDir, ours: pki.clientDir };
    const seen = await libnbd(
      server,
      ["memory", "1M"],
      `
      dirs = ${JSON.stringify(dirs)}
      def attempt(dir):
          return outcome(lambda: connect_tls("tls-certificates=" + dir).pread(8, 0))
      report(**{name: "ok" if attempt(dir) == "ok" else "refused" for name, dir in dirs.items()})
      `,
      { serverOptions: verifyPeerWithCrl() },
    );
    expect(seen).toEqual({ revoked: "refused", ours: "ok" });
  });

  test("where revocation cannot be checked, the server refuses to start, naming ca-crl.pem", async (context) => {
    if (!ignoresRevocation(server.name)) {
      return context.skip("this server checks revocation (previous test)");
    }
    const result = await captive(server, ["memory", "1M"], "true", {
      serverOptions: verifyPeerWithCrl(),
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("ca-crl.pem");
    expect(result.stderr).toContain("--tls-verify-peer");
  });
});
