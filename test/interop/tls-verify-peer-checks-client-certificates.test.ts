/**
 * --tls-verify-peer: the server asks each client for a certificate and checks it against
 * ca-cert.pem. A client with one our CA signed is served (libnbd and qemu-img); one without a
 * certificate, or with a certificate another CA signed, is refused, and the server goes on
 * serving the next client.
 */

import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { expectSuccess } from "../helpers/captive.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { qemuImgInfo } from "../helpers/qemu-tls.ts";
import { requireClients, type Server, servers } from "../helpers/servers.ts";
import { makePki, type Pki } from "../helpers/tls-pki.ts";

let pki: Pki;
beforeAll(() => void (pki = makePki()));
afterAll(() => pki.remove());

const verifyPeer = () => [
  "--tls=require",
  `--tls-certificates=${pki.serverDir}`,
  "--tls-verify-peer",
];

/** Tries each client directory in turn against one captive server: "ok" or "refused". */
function attemptEach(server: Server, serverOptions: string[]) {
  const dirs = {
    anonymous: pki.anonymousClientDir,
    stranger: pki.strangerClientDir,
    ours: pki.clientDir,
  };
  return libnbd(
    server,
    ["memory", "1M"],
    `
      dirs = ${JSON.stringify(dirs)}
      def attempt(dir):
          def go():
              h = connect_tls("tls-certificates=" + dir)
              h.pwrite(b"verified", 0)
              if h.pread(8, 0) != b"verified":
                  raise Exception("data did not round-trip")
          return "ok" if outcome(go) == "ok" else "refused"
      report(**{name: attempt(dir) for name, dir in dirs.items()})
      `,
    { serverOptions },
  );
}

describe.each(servers)("--tls-verify-peer ($name)", (server) => {
  test("refuses clients without a certificate or with a stranger's, and serves ours after", async (context) => {
    requireClients(context, "python3");
    expect(await attemptEach(server, verifyPeer())).toEqual({
      anonymous: "refused",
      stranger: "refused",
      ours: "ok",
    });
  });

  test("without it, no client certificate is asked for or checked", async (context) => {
    requireClients(context, "python3");
    const options = ["--tls=require", `--tls-certificates=${pki.serverDir}`];
    expect(await attemptEach(server, options)).toEqual({
      anonymous: "ok",
      stranger: "ok",
      ours: "ok",
    });
  });

  test("qemu-img presenting client-cert.pem is served, and refused without one", async (context) => {
    requireClients(context, "qemu-img");
    const served = await qemuImgInfo(server, { x509: pki.clientDir }, verifyPeer());
    expect(expectSuccess(served).stdout).toContain("virtual size: 1 MiB (1048576 bytes)");
    const refused = await qemuImgInfo(server, { x509: pki.anonymousClientDir }, verifyPeer());
    expect(refused.status).not.toBe(0);
    expect(refused.stdout).not.toContain("virtual size");
  });
});
