/**
 * --filter=ip with --tls=on and --tls=require: a connection that may switch to TLS is judged
 * by where it comes from like any other, before the greeting, over Unix sockets and TCP alike.
 */

import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startServer } from "../helpers/background.ts";
import { expectSuccess, run } from "../helpers/captive.ts";
import { RawConnection } from "../helpers/raw-nbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";
import { makePki, type Pki } from "../helpers/tls-pki.ts";

let pki: Pki;
beforeAll(() => void (pki = makePki()));
afterAll(() => pki.remove());

describe.each(servers)("ip filter with TLS ($name)", (server) => {
  test.for(
    [
      ["on", "anyunix", "nbd+unix"],
      ["require", "anyunix", "nbds+unix"],
      ["require", "anyipv4", "nbds"],
    ] as const,
  )(
    "--tls=%s: allow=%s deny=all lets its clients in (%s)",
    async ([mode, rule, scheme], context) => {
      requireClients(context, "nbdinfo");
      const tls = [`--tls=${mode}`, `--tls-certificates=${pki.serverDir}`];
      const plugin = ["--filter=ip", "memory", "1M", `allow=${rule}`, "deny=all"];
      const tcp = scheme === "nbds" ? { host: "127.0.0.1" } : undefined;
      const background = await startServer(server, plugin, { serverOptions: tls, tcp });
      const credentials = scheme.startsWith("nbds") ? `tls-certificates=${pki.clientDir}` : "";
      const uri = tcp
        ? `${scheme}://127.0.0.1:${background.ports?.ipv4}/?${credentials}`
        : `${scheme}://?socket=${background.socket}&${credentials}`;
      const result = expectSuccess(await run(["nbdinfo", "--size", uri]));
      expect(result.stdout.trim()).toBe("1048576");
    },
  );

  test("--tls=require: deny=anyunix refuses a Unix client before the greeting", async () => {
    const tls = ["--tls=require", `--tls-certificates=${pki.serverDir}`];
    const plugin = ["--filter=ip", "memory", "1M", "deny=anyunix"];
    const background = await startServer(server, plugin, { serverOptions: tls });
    const client = await RawConnection.open(background.socket);
    expect(await client.closedBeforeAnyByte()).toBe(true);
  });
});
