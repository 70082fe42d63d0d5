/**
 * curl: a web server that does not serve byte ranges (no Accept-Ranges, 200 with the whole file
 * to a ranged GET), or that has no such file, cannot be a disk: the connection's open fails
 * with nbdkit's message, the client is told, and the server goes on serving the next one.
 */

import { randomBytes } from "node:crypto";
import { describe, expect, test } from "vitest";
import { captive } from "../helpers/captive.ts";
import { startHttpDisk } from "../helpers/http-disk-server.ts";
import { requireClients, servers } from "../helpers/servers.ts";

describe.each(servers)("curl plugin refuses servers without ranges ($name)", (server) => {
  test("a server ignoring Range fails the open with nbdkit's message", async (context) => {
    requireClients(context, "nbdinfo");
    const web = await startHttpDisk(randomBytes(64 * 1024), { ranges: false });
    const result = await captive(server, ["-r", "curl", web.url], `nbdinfo --size "$uri"`);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain("server does not support 'range' (byte range) requests");
  });

  test("a missing file fails the open naming the URL and the status", async (context) => {
    requireClients(context, "nbdinfo");
    const web = await startHttpDisk(randomBytes(4096));
    const url = `${web.origin}/missing.img`;
    const result = await captive(server, ["-r", "curl", url], `nbdinfo --size "$uri"`);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain(
      `problem doing HEAD request to fetch size of URL [${url}]: ` +
        "HTTP response code said error: The requested URL returned error: 404",
    );
  });

  test("url= is required", async () => {
    const result = await captive(server, ["curl"], "true");
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("you must supply the url=<URL> parameter");
  });
});
