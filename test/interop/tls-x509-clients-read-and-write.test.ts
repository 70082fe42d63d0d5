/**
 * TLS with X.509 certificates (--tls=require --tls-certificates=DIR): libnbd's nbdsh and
 * nbdinfo, and qemu-img, connect with nbds:// and move data through the encrypted stream, on
 * a Unix socket and on stdin/stdout (-s).
 */

import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { captive, expectSuccess } from "../helpers/captive.ts";
import { libnbd, pythonList } from "../helpers/libnbd.ts";
import { qemuRoundTrip } from "../helpers/qemu-tls.ts";
import { requireClients, servers } from "../helpers/servers.ts";
import { makePki, type Pki } from "../helpers/tls-pki.ts";

let pki: Pki;
beforeAll(() => void (pki = makePki()));
afterAll(() => pki.remove());

/** The server's options for TLS required with our certificates. */
const requireTls = () => ["--tls=require", `--tls-certificates=${pki.serverDir}`];

describe.each(servers)("TLS with X.509 certificates ($name)", (server) => {
  test("nbdsh (libnbd) writes and reads back through nbds+unix with tls-certificates", async (context) => {
    requireClients(context, "python3");
    const reported = await libnbd(
      server,
      ["memory", "1M"],
      `
      h = connect_tls("tls-certificates=" + ${JSON.stringify(pki.clientDir)})
      h.pwrite(b"sealed " * 100, 4096)
      report(tls=h.get_tls_negotiated(), data=h.pread(700, 4096).decode(), size=h.get_size())
      `,
      { serverOptions: requireTls() },
    );
    expect(reported).toEqual({ tls: true, data: "sealed ".repeat(100), size: 1048576 });
  });

  test("nbdinfo shows the export over TLS", async (context) => {
    requireClients(context, "nbdinfo");
    const result = expectSuccess(
      await captive(
        server,
        ["memory", "1M"],
        `nbdinfo --json "nbds+unix:///?socket=$unixsocket&tls-certificates=${pki.clientDir}"`,
        { serverOptions: requireTls() },
      ),
    );
    const info = JSON.parse(result.stdout);
    expect(info.TLS).toBe(true);
    expect(info.exports[0]["export-size"]).toBe(1048576);
  });

  test("qemu-img converts into and out of the export through tls-creds-x509", async (context) => {
    requireClients(context, "qemu-img");
    const content = new Uint8Array(256 * 1024).map((_, i) => (i * 7 + (i >> 9)) & 0xff);
    const { back, stdout } = await qemuRoundTrip(
      server,
      { x509: pki.clientDir },
      requireTls(),
      content,
    );
    expect(stdout).toContain("virtual size: 256 KiB (262144 bytes)");
    expect(back).toEqual(content);
  });

  test("-s: libnbd starts the server on its stdin/stdout and upgrades that to TLS", async (context) => {
    requireClients(context, "python3");
    const argv = [...server.argv, "-s", ...requireTls(), "memory", "1M"];
    const reported = await libnbd(
      server,
      ["memory", "1M"],
      `
      h = nbd.NBD()
      h.set_tls(nbd.TLS_REQUIRE)
      h.set_tls_certificates(${JSON.stringify(pki.clientDir)})
      h.connect_command(${pythonList(argv)})
      h.pwrite(b"over a pipe", 0)
      report(tls=h.get_tls_negotiated(), data=h.pread(11, 0).decode())
      `,
    );
    expect(reported).toEqual({ tls: true, data: "over a pipe" });
  });
});
