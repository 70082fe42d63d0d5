/**
 * With uri=nbd+ws://…, the nbd plugin is the bridge from a WebSocket NBD server to every NBD
 * client: qemu-img and nbdsh reach each nbdts runtime's --websocket listener through it.
 * nbdkit's nbd plugin (libnbd) knows no nbd+ws URI and nbdkit no WebSocket listener, so the
 * plugin in front is nbdts's alone, on each runtime.
 */

import { describe, expect, test } from "vitest";
import { captive, expectSuccess } from "../helpers/captive.ts";
import { requireClients, servers } from "../helpers/servers.ts";
import { startWebSocketServer } from "../helpers/websocket-server.ts";

const ours = servers.filter((server) => server.name.startsWith("nbdts"));

if (ours.length === 0) test.skip("nbd plugin over nbd+ws: no nbdts server is selected", () => {});

describe.each(ours)("nbd plugin uri=nbd+ws ($name in front)", (front) => {
  test.each(ours)("qemu-img and nbdsh reach $name's --websocket listener", async (behind) => {
    const edge = await startWebSocketServer(behind.argv, ["memory", "8M"]);
    try {
      const uri = edge.printed.replace("localhost", "127.0.0.1");
      const script = [
        `qemu-img info --output=json "$uri" | grep '"virtual-size"'`,
        `nbdsh -u "$uri" -c 'h.pwrite(b"via websocket", 512); print(h.pread(13, 512).decode())'`,
      ].join(" && ");
      const result = await captive(front, ["nbd", `uri=${uri}`], script);
      expect(expectSuccess(result).stdout).toMatch(/"virtual-size": 8388608[\s\S]*via websocket/);
    } finally {
      edge.stop();
    }
  });

  test("a WebSocket server that is not there is a one-line error", async (context) => {
    requireClients(context, "nbdinfo");
    const result = await captive(front, ["nbd", "uri=nbd+ws://127.0.0.1:1/"], 'nbdinfo "$uri"');
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(/nbd\[1\]: error: .*Cannot connect to ws:\/\/127\.0\.0\.1:1\//);
  });
});
