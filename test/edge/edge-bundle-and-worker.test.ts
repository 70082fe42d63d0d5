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

  test("its behaviour filters need no host: stacked over memory, each changes what nbdsh sees", async (context) => {
    requireClients(context, "nbdsh");
    const edge = await import(BUNDLE);
    const filters = [
      edge.createRotationalFilter(),
      edge.createNoextentsFilter(),
      edge.createNozeroFilter(),
      edge.createErrorFilter(),
      edge.createDelayFilter(),
      edge.createRateFilter(),
      edge.createRetryRequestFilter(),
      edge.createCountFilter(),
      edge.createFuaFilter(),
      edge.createMultiConnFilter(),
      edge.createNocacheFilter(),
      edge.createNoparallelFilter(),
      edge.createExportnameFilter(),
      edge.createTimeLimitFilter(),
      edge.createNofilterFilter(),
    ];
    const server = await edge.createServer(
      edge.stackFilters(filters, edge.createMemoryPlugin()),
      {
        params: {
          size: "1M",
          "error-trim-rate": "1",
          error: "EPERM",
          rdelay: "10ms",
          rate: "100M",
          "exportname-list": "explicit",
          exportname: "only",
        },
      },
    );
    cleanups.push(() => void server.shutdown());
    const uri = await unixBridge((socket) => {
      const { readable, writable } = Duplex.toWeb(socket);
      void edge.serveStream(server, { readable, writable });
    });
    const script = [
      "h.add_meta_context('base:allocation')",
      "h.set_opt_mode(True)",
      "h.connect_uri(" + JSON.stringify(uri) + ")",
      "names = []",
      "h.opt_list(lambda name, desc: names.append(name) or 0)",
      "h.opt_go()",
      "h.pwrite(b'edge' * 1024, 4096)",
      "print(names, h.is_rotational(), h.can_zero())",
      "print(bytes(h.pread(4, 4096)))",
      "seen = []",
      "h.block_status(1048576, 0, lambda ctx, off, ents, err: seen.extend(ents) or 0)",
      "print(seen)",
      "try:\n    h.trim(4096, 0)\n    print('trimmed')\nexcept nbd.Error as e:\n    print(e.errnum == errno.EPERM)",
    ].join("\n");
    const { stdout } = expectSuccess(await run(["nbdsh", "-c", "import errno", "-c", script]));
    expect(stdout.trim().split("\n")).toEqual([
      "['only'] True False",
      "b'edge'",
      "[1048576, 0]", // noextents: all data, where memory would show holes around the write
      "True",
    ]);
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
