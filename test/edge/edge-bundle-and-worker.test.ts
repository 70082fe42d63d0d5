/**
 * The edge bundle runs without Node: it names no Node built-in, and imported on its own it
 * serves real clients. The Worker-style example (examples/worker.ts) serves NBD over WebSocket
 * under `deno serve`. nbdinfo and qemu-io reach both through small socket bridges.
 */

import { readFileSync } from "node:fs";
import { Duplex } from "node:stream";
import { afterEach, describe, expect, test } from "vitest";
import { expectSuccess, run } from "../helpers/captive.ts";
import { startDenoServe } from "../helpers/deno-serve.ts";
import { unixBridge, webSocketBridge } from "../helpers/websocket-bridge.ts";
import { REPO_ROOT, requireClients } from "../helpers/servers.ts";

const BUNDLE = `${REPO_ROOT}build/nbdts-edge.js`;
const cleanups: (() => void)[] = [];
afterEach(() => cleanups.splice(0).reverse().forEach((cleanup) => cleanup()));

describe("the edge bundle", () => {
  test("names no Node built-in and no runtime global", () => {
    const code = readFileSync(BUNDLE, "utf8");
    expect(code).not.toMatch(/from\s*["']node:|require\(["']node:|\bprocess\.|\bBuffer\b/);
    expect(code).not.toMatch(/\bDeno\.|\bBun\./);
  });

  test("imported alone, it serves nbdsh over a Web Streams pair", async (context) => {
    requireClients(context, "nbdsh");
    const edge = await import(BUNDLE);
    const server = await edge.createServer(edge.createPatternPlugin(), { params: { size: "1M" } });
    cleanups.push(() => void server.shutdown());
    const uri = await unixBridge((socket) => {
      const { readable, writable } = Duplex.toWeb(socket);
      void edge.serveStream(server, { readable, writable });
    });
    const { stdout } = expectSuccess(
      await run(["nbdsh", "-u", uri, "-c", "print(h.get_size(), h.pread(8, 4096).hex())"]),
    );
    expect(stdout.trim()).toBe("1048576 0000000000001000");
  });
});

describe("the Worker-style example under deno serve", () => {
  test("qemu-io writes and reads back through the worker's WebSocket", async (context) => {
    requireClients(context, "qemu-io");
    const uri = await webSocketBridge(await startDenoServe("examples/worker.ts"));
    expectSuccess(await run(["qemu-io", "-f", "raw", "-c", "write -P 0x33 4M 2M", uri]));
    const read = await run(["qemu-io", "-f", "raw", "-c", "read -P 0x33 4M 2M", uri]);
    expect(expectSuccess(read).stdout).toMatch(/read 2097152\/2097152 bytes/);
  });
});
