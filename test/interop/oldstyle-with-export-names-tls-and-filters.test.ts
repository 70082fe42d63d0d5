/**
 * -o with the options around it, as nbdkit: -e names the export in $uri and $exportname while
 * the one export served is still "" (oldstyle sends no name); --tls=require cannot start (TLS
 * needs an option), --tls=on serves in clear; filters and --no-sr change nothing; a plugin that
 * cannot open "" closes each connection before the greeting, and the server goes on.
 */

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { captive, expectSuccess, scratchDir } from "../helpers/captive.ts";
import { OLDSTYLE_MEMORY_1M, portableInfo } from "../helpers/nbdinfo-report.ts";
import { requireClients, servers } from "../helpers/servers.ts";
import { makePki, type Pki } from "../helpers/tls-pki.ts";

let pki: Pki;
beforeAll(() => void (pki = makePki()));
afterAll(() => pki.remove());

describe.each(servers)("oldstyle with export names, TLS and filters ($name)", (server) => {
  test("-e names the export in $uri and $exportname; nbdinfo reads it all the same", async (context) => {
    requireClients(context, "nbdinfo");
    const script = 'echo "$exportname"; echo "$uri"; nbdinfo "$uri"';
    const { stdout } = expectSuccess(
      await captive(server, ["memory", "1M"], script, { serverOptions: ["-o", "-e", "foo"] }),
    );
    const [name, uri, ...info] = stdout.split("\n");
    expect(name).toBe("foo");
    expect(uri).toMatch(/^nbd\+unix:\/\/\/foo\?socket=/);
    expect(portableInfo(info.join("\n"))).toBe(OLDSTYLE_MEMORY_1M.replace('""', '"foo"'));
  });

  test("--tls=require is refused at start-up in nbdkit's words", async () => {
    const result = await captive(server, ["memory", "1M"], "true", {
      serverOptions: ["-o", "--tls=require", `--tls-certificates=${pki.serverDir}`],
    });
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toMatch(
      /^\S+: cannot use oldstyle protocol \(-o\) and require TLS$/,
    );
  });

  test("--tls=on serves oldstyle in clear; a client that insists on TLS fails", async (context) => {
    requireClients(context, "nbdinfo");
    const tlsUri = `nbds+unix:///?socket=$unixsocket&tls-certificates=${pki.clientDir}`;
    const script = `nbdinfo "$uri"; nbdinfo --size "${tlsUri}" 2>/dev/null || echo refused`;
    const { stdout } = expectSuccess(
      await captive(server, ["memory", "1M"], script, {
        serverOptions: ["-o", "--tls=on", `--tls-certificates=${pki.serverDir}`],
      }),
    );
    expect(portableInfo(stdout)).toBe(`${OLDSTYLE_MEMORY_1M}refused\n`);
  });

  test("a filter and --no-sr change nothing", async (context) => {
    requireClients(context, "nbdinfo");
    const { stdout } = expectSuccess(
      await captive(server, ["memory", "1M", "limit=2"], 'nbdinfo "$uri"', {
        serverOptions: ["-o", "--no-sr", "--filter=limit"],
      }),
    );
    expect(portableInfo(stdout)).toBe(OLDSTYLE_MEMORY_1M);
  });

  test('a plugin that cannot open export "" closes each connection; the server goes on', async (context) => {
    requireClients(context, "nbdinfo");
    const dir = join(scratchDir(), "exports");
    mkdirSync(dir);
    writeFileSync(join(dir, "disk"), new Uint8Array(4096));
    // libnbd words the failure as the close finds it: "server disconnected" or a bad state.
    const script = 'for i in 1 2; do nbdinfo --size "$uri" >/dev/null 2>&1 || echo "failed $?"; ' +
      "done; kill -0 $PPID && echo serving";
    const { stdout } = expectSuccess(
      await captive(server, ["file", `dir=${dir}`], script, { serverOptions: ["-o"] }),
    );
    expect(stdout).toBe("failed 1\nfailed 1\nserving\n");
  });
});
