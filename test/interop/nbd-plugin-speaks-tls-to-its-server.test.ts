/**
 * The nbd plugin's TLS to the server behind it, as nbdkit's: tls=require with
 * tls-certificates=DIR reaches an nbdkit that requires TLS, an nbds URI requires it by itself,
 * tls=on falls back to clear with a server without TLS, and a server that requires TLS refuses
 * a plugin that does not ask for it. Each nbdts runtime in front, and nbdkit's own nbd plugin.
 */

import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { captive, expectSuccess } from "../helpers/captive.ts";
import { startNbdkitBackend } from "../helpers/nbd-backend.ts";
import { requireClients, servers } from "../helpers/servers.ts";
import { makePki, type Pki } from "../helpers/tls-pki.ts";

let pki: Pki;
beforeAll(() => void (pki = makePki()));
afterAll(() => pki.remove());

const READ_BACK =
  `nbdsh -u "$uri" -c 'h.pwrite(b"through tls", 0); print(h.pread(11, 0).decode())'`;

describe.each(servers)("nbd plugin ($name) to a server that requires TLS", (server) => {
  test("tls=require with tls-certificates, or an nbds URI, reaches it", async (context) => {
    requireClients(context, "nbdsh");
    const backend = await startNbdkitBackend(["memory", "1M"], [
      "--tls=require",
      `--tls-certificates=${pki.serverDir}`,
    ]);
    for (
      const params of [
        [`socket=${backend.socket}`, "tls=require", `tls-certificates=${pki.clientDir}`],
        [`uri=nbds+unix:///?socket=${backend.socket}`, `tls-certificates=${pki.clientDir}`],
      ]
    ) {
      const result = await captive(server, ["nbd", ...params], READ_BACK);
      expect(expectSuccess(result).stdout.trim()).toBe("through tls");
    }
  });

  test("without tls= it is refused; tls=on falls back to clear with a server in clear", async (context) => {
    requireClients(context, "nbdsh", "nbdinfo");
    const strict = await startNbdkitBackend(["memory", "1M"], [
      "--tls=require",
      `--tls-certificates=${pki.serverDir}`,
    ]);
    const refused = await captive(server, ["nbd", `socket=${strict.socket}`], 'nbdinfo "$uri"');
    expect(refused.status).not.toBe(0);
    const clear = await startNbdkitBackend(["memory", "1M"]);
    const params = [`socket=${clear.socket}`, "tls=on", `tls-certificates=${pki.clientDir}`];
    const result = await captive(server, ["nbd", ...params], READ_BACK);
    expect(expectSuccess(result).stdout.trim()).toBe("through tls");
  });
});
