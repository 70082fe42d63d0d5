/**
 * nbd+ws: with --websocket, --print-uri and --run's $uri give nbd+ws://localhost:PORT/EXPORT,
 * and nbdts/client on Node, Deno and Bun connects by that URI and runs its whole scenario
 * through the WebSocket. nbdkit has no WebSocket listener: these run against nbdts alone.
 */

import { describe, expect, test } from "vitest";
import { expectSuccess, runServer } from "../helpers/captive.ts";
import { clientRuntimes } from "../helpers/client-runtimes.ts";
import { servers } from "../helpers/servers.ts";
import { startWebSocketServer } from "../helpers/websocket-server.ts";

const ours = servers.filter((server) => server.name.startsWith("nbdts"));

if (ours.length === 0) test.skip("nbd+ws: no nbdts server is selected", () => {});

describe.each(ours)("nbd+ws on $name", (server) => {
  test("--run's $uri and $nbd are the nbd+ws URI, with the export name in its path", async () => {
    const result = await runServer(server, [
      "--websocket",
      "-i",
      "127.0.0.1",
      "-p",
      "0",
      "-e",
      "my disk",
      "memory",
      "1M",
      "--run",
      'echo "$uri $nbd"',
    ]);
    const [uri, nbd] = expectSuccess(result).stdout.trim().split(" ");
    expect(uri).toMatch(/^nbd\+ws:\/\/localhost:\d+\/my%20disk$/);
    expect(nbd).toBe(uri);
  });

  describe.each(clientRuntimes)("the client on $name", (runtime) => {
    test("connects by the printed nbd+ws URI and reads, writes and maps", async () => {
      const started = await startWebSocketServer(server.argv, ["memory", "1M"]);
      try {
        const uri = started.printed.replace("localhost", "127.0.0.1");
        expect(await runtime.scenario(uri)).toMatchObject({
          size: 1048576,
          structuredReplies: true,
          readBack: true,
          parallelReadBack: true,
          zeroed: true,
          extentsFromZero: true,
          pastEnd: "EINVAL",
          afterError: true,
          afterDisconnect: "ConnectionClosedError",
        });
      } finally {
        started.stop();
      }
    });
  });
});
