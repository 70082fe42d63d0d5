/**
 * TLS with pre-shared keys (--tls-psk=FILE, psktool's format): libnbd and qemu-img, both
 * GnuTLS clients, connect with the right key and move data; a wrong key or an unknown user is
 * refused and the server goes on serving. Deno's node:tls (rustls) and Bun's have no TLS-PSK:
 * there the server must refuse --tls-psk at start-up and say what to do instead.
 */

import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { runServer } from "../helpers/captive.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { qemuImgInfo, qemuRoundTrip } from "../helpers/qemu-tls.ts";
import { requireClients, type Server, servers } from "../helpers/servers.ts";
import { makePki, type Pki } from "../helpers/tls-pki.ts";

let pki: Pki;
beforeAll(() => void (pki = makePki()));
afterAll(() => pki.remove());

/** The servers whose TLS library offers no pre-shared keys (README, "Runtimes"). */
const WITHOUT_PSK = new Set(["nbdts-deno", "nbdts-bun"]);
const withPsk = (server: Server) => !WITHOUT_PSK.has(server.name);

const requirePsk = () => ["--tls=require", `--tls-psk=${pki.pskFile}`];

/** Python: connect_tls's arguments for user `user` with the key file `file`. */
const pskUser = (user: string, file: string) =>
  `"tls-psk-file=" + ${JSON.stringify(file)}, "${user}"`;

describe.each(servers.filter(withPsk))("TLS with pre-shared keys ($name)", (server) => {
  test("libnbd with alice's key writes and reads back", async (context) => {
    requireClients(context, "python3");
    const reported = await libnbd(
      server,
      ["memory", "1M"],
      `
      h = connect_tls(${pskUser("alice", pki.pskFile)})
      h.pwrite(b"shared secret", 512)
      report(tls=h.get_tls_negotiated(), data=h.pread(13, 512).decode())
      `,
      { serverOptions: requirePsk() },
    );
    expect(reported).toEqual({ tls: true, data: "shared secret" });
  });

  test("a wrong key and an unknown user are refused; the next client is served", async (context) => {
    requireClients(context, "python3");
    const reported = await libnbd(
      server,
      ["memory", "1M"],
      `
      def attempt(query, user):
          return outcome(lambda: connect_tls(query, user).pread(512, 0)) == "ok"
      report(
          wrong_key=attempt(${pskUser("alice", pki.wrongPskFile)}),
          unknown_user=attempt(${pskUser("mallory", pki.pskFile)}),
          right_key=attempt(${pskUser("alice", pki.pskFile)}),
      )
      `,
      { serverOptions: requirePsk() },
    );
    expect(reported).toEqual({ wrong_key: false, unknown_user: false, right_key: true });
  });

  test("qemu-img converts through tls-creds-psk", async (context) => {
    requireClients(context, "qemu-img");
    const content = new Uint8Array(128 * 1024).map((_, i) => i % 251);
    const alice = { pskDir: pki.pskDir, user: "alice" };
    expect((await qemuRoundTrip(server, alice, requirePsk(), content)).back).toEqual(content);
  });

  test("qemu-img with the wrong key is refused", async (context) => {
    requireClients(context, "qemu-img");
    const impostor = { pskDir: pki.wrongPskDir, user: "alice" };
    const result = await qemuImgInfo(server, impostor, requirePsk());
    expect(result.status).not.toBe(0);
    expect(result.stdout).not.toContain("virtual size");
  });
});

describe.each(servers.filter((server) => !withPsk(server)))("no TLS-PSK ($name)", (server) => {
  test("--tls-psk is refused at start-up, pointing to Node and to certificates", async () => {
    const result = await runServer(server, ["-f", "-U", "-", ...requirePsk(), "memory", "1M"]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/--tls-psk cannot be used on (Deno|Bun)/);
    expect(result.stderr).toContain("under Node");
    expect(result.stderr).toContain("--tls-certificates");
  });
});
