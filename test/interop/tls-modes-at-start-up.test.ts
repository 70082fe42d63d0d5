/**
 * How --tls settles at start-up and what a --run command sees of it: with certificates,
 * --tls=require gives $uri an nbds:// scheme and $tls=2, --tls=on keeps nbd:// with $tls=1;
 * without certificates --tls=on warns and turns TLS off, --tls=require refuses to start.
 */

import { copyFileSync, writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { captive, expectSuccess, runServer, scratchDir } from "../helpers/captive.ts";
import { requireClients, servers } from "../helpers/servers.ts";
import { makePki, type Pki } from "../helpers/tls-pki.ts";

let pki: Pki;
beforeAll(() => void (pki = makePki()));
afterAll(() => pki.remove());

const SHOW = 'echo "uri=$uri"; echo "tls=${tls-unset}"; echo "socket=$unixsocket"';

/** The key=value lines a --run command printed. */
function lines(stdout: string): Record<string, string> {
  return Object.fromEntries(
    stdout.trim().split("\n").map((
      line,
    ) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
  );
}

describe.each(servers)("--tls at start-up ($name)", (server) => {
  test("--tls=require: $uri is nbds+unix:// and $tls is 2, and the URI works", async (context) => {
    requireClients(context, "nbdinfo");
    const script = `${SHOW}; nbdinfo --size "$uri&tls-certificates=${pki.clientDir}"`;
    const result = expectSuccess(
      await captive(server, ["memory", "1M"], script, {
        serverOptions: ["--tls=require", `--tls-certificates=${pki.serverDir}`],
      }),
    );
    const seen = lines(result.stdout.split("\n").slice(0, 3).join("\n"));
    expect(seen.uri).toBe(`nbds+unix://?socket=${seen.socket}`);
    expect(seen.tls).toBe("2");
    expect(result.stdout.trim().split("\n").at(-1)).toBe("1048576");
  });

  test("--tls=on with certificates: $uri stays nbd+unix:// and $tls is 1", async () => {
    const result = expectSuccess(
      await captive(server, ["memory", "1M"], SHOW, {
        serverOptions: ["--tls=on", `--tls-certificates=${pki.serverDir}`],
      }),
    );
    const seen = lines(result.stdout);
    expect(seen.uri).toBe(`nbd+unix://?socket=${seen.socket}`);
    expect(seen.tls).toBe("1");
  });

  test("--tls=on where no certificates are warns and serves without TLS", async () => {
    const empty = scratchDir();
    const result = expectSuccess(
      await captive(server, ["memory", "1M"], SHOW, {
        serverOptions: ["--tls=on", `--tls-certificates=${empty}`],
      }),
    );
    expect(result.stderr).toContain("warning: --tls=on but could not load TLS certificates.");
    expect(lines(result.stdout).tls).toBe("unset");
  });

  test("--tls=require where no certificates are refuses to start", async () => {
    const empty = scratchDir();
    const result = await captive(server, ["memory", "1M"], "true", {
      serverOptions: ["--tls=require", `--tls-certificates=${empty}`],
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("--tls=require but could not load TLS certificates.");
  });

  test("a server key that is not a key stops start-up", async () => {
    const broken = scratchDir();
    copyFileSync(`${pki.serverDir}/ca-cert.pem`, `${broken}/ca-cert.pem`);
    copyFileSync(`${pki.serverDir}/server-cert.pem`, `${broken}/server-cert.pem`);
    writeFileSync(`${broken}/server-key.pem`, "not a key\n");
    const result = await captive(server, ["memory", "1M"], "true", {
      serverOptions: [`--tls-certificates=${broken}`],
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(broken);
    expect(result.stderr).toContain("server-key.pem");
  });

  test("--dump-config says tls=yes", async () => {
    const { stdout } = expectSuccess(await runServer(server, ["--dump-config"]));
    expect(stdout).toMatch(/^tls=yes$/m);
  });
});
