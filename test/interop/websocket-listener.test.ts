/**
 * --websocket: the server speaks NBD inside WebSocket binary messages. Real clients speak NBD
 * over sockets only, so a small bridge in the test carries their bytes to and from a
 * WebSocket. nbdkit has no WebSocket listener: these tests run against nbdts alone.
 */

import { afterEach, describe, expect, test } from "vitest";
import { expectSuccess, run } from "../helpers/captive.ts";
import { requireClients, servers } from "../helpers/servers.ts";
import { webSocketBridge } from "../helpers/websocket-bridge.ts";
import { startWebSocketServer as startServer } from "../helpers/websocket-server.ts";

const ours = servers.filter((server) => server.name.startsWith("nbdts"));
const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).reverse().forEach((cleanup) => cleanup()));

/** Starts `--websocket -p 0 --print-uri` and returns the ws:// URL of the URI it printed. */
async function startWebSocketServer(argv: readonly string[], plugin: string[]): Promise<string> {
  const server = await startServer(argv, plugin);
  cleanups.push(server.stop);
  return server.url;
}

/** A Unix socket whose every connection is carried over a new WebSocket to `url`. */
const bridge = webSocketBridge;

// With NBD_SERVERS naming only nbdkit there is nothing to run: say so rather than fail empty.
if (ours.length === 0) test.skip("--websocket listener: no nbdts server is selected", () => {});

describe.each(ours)("--websocket listener ($name)", (server) => {
  test("--print-uri gives an nbd+ws URI and plain HTTP is refused with 426", async () => {
    const started = await startServer(server.argv, ["memory", "1M"]);
    cleanups.push(started.stop);
    expect(started.printed).toMatch(/^nbd\+ws:\/\/localhost:\d+\/$/);
    const response = await fetch(started.url.replace("ws:", "http:"));
    expect(response.status).toBe(426);
  });

  test("nbdinfo sees the disk through a WebSocket", async (context) => {
    requireClients(context, "nbdinfo");
    const uri = await bridge(await startWebSocketServer(server.argv, ["memory", "4M"]));
    const { stdout } = expectSuccess(await run(["nbdinfo", "--json", uri]));
    expect(JSON.parse(stdout).exports[0]).toMatchObject({
      "export-size": 4 * 1024 * 1024,
      is_read_only: false,
    });
  });

  test("the ip filter sees the WebSocket client's address", async (context) => {
    requireClients(context, "nbdinfo");
    const allowed = await bridge(
      await startWebSocketServer(server.argv, [
        "--filter=ip",
        "memory",
        "1M",
        "allow=127.0.0.1",
        "deny=all",
      ]),
    );
    expect(expectSuccess(await run(["nbdinfo", "--size", allowed])).stdout.trim()).toBe("1048576");
    const denied = await bridge(
      await startWebSocketServer(server.argv, ["--filter=ip", "memory", "1M", "deny=anyipv4"]),
    );
    const refused = await run(["nbdinfo", "--size", denied]);
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/server disconnected unexpectedly/);
  });

  test("qemu-io writes a pattern through a WebSocket and reads it back", async (context) => {
    requireClients(context, "qemu-io");
    const uri = await bridge(await startWebSocketServer(server.argv, ["memory", "4M"]));
    const written = await run(["qemu-io", "-f", "raw", "-c", "write -P 0x5a 1M 1M", uri]);
    expectSuccess(written);
    const read = await run(["qemu-io", "-f", "raw", "-c", "read -P 0x5a 1M 1M", uri]);
    expect(expectSuccess(read).stdout).toMatch(/read 1048576\/1048576 bytes/);
  });
});
