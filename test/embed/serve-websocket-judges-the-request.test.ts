/**
 * serveWebSocket with the upgrade request: a page whose Origin is not allowed gets its socket
 * closed with 1008 and not one byte of NBD, and the refusal is logged; allowed pages and
 * programs get the greeting. A real WebSocket server (the ws package) carries it.
 */

import type { IncomingMessage } from "node:http";
import { afterEach, describe, expect, test } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import { createServer, serveWebSocket, type WebSocketLike } from "../../src/embed/serve.ts";
import type { UpgradePolicy } from "../../src/embed/upgrade-policy.ts";
import { createMemoryPlugin } from "../../src/plugins/memory.ts";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A ws server handing each socket to serveWebSocket with its request; the log it wrote. */
async function serving(policy: UpgradePolicy) {
  const log: string[] = [];
  const server = await createServer(createMemoryPlugin(), {
    params: { size: "1M" },
    log: (line) => log.push(line),
  });
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  await new Promise<void>((resolve) => wss.on("listening", () => resolve()));
  cleanups.push(() => server.shutdown());
  cleanups.push(() => new Promise<void>((done) => wss.close(() => done())));
  const served: boolean[] = [];
  wss.on("connection", (ws, request: IncomingMessage) => {
    const headers = { get: (name: string) => request.headers[name]?.toString() ?? null };
    const socket = ws as unknown as WebSocketLike;
    served.push(serveWebSocket(server, socket, { ...policy, peer: "test", request: { headers } }));
  });
  const { port } = wss.address() as { port: number };
  return { url: `ws://127.0.0.1:${port}/`, log, served };
}

/** The first message's first 8 bytes, or the close code if the socket closed without one. */
function firstWords(url: string, origin?: string): Promise<string | number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { origin });
    ws.on("message", (data: Buffer) => {
      ws.close();
      resolve(data.subarray(0, 8).toString("latin1"));
    });
    ws.on("close", (code) => resolve(code));
    ws.on("error", reject);
  });
}

describe("serveWebSocket judges the upgrade request it is given", () => {
  test("a foreign page is closed with 1008 before any NBD byte, and logged", async () => {
    const { url, log, served } = await serving({});
    expect(await firstWords(url, "https://evil.example")).toBe(1008);
    expect(served).toEqual([false]);
    expect(log.join("")).toMatch(
      /websocket: error: refused test: Origin "https:\/\/evil\.example"/,
    );
  });

  test("an allowed page and a program without Origin get the greeting", async () => {
    const { url, served } = await serving({ allowOrigins: ["https://app.example"] });
    expect(await firstWords(url, "https://app.example")).toBe("NBDMAGIC");
    expect(await firstWords(url)).toBe("NBDMAGIC");
    expect(served).toEqual([true, true]);
  });

  test('"*" serves every page', async () => {
    const { url } = await serving({ allowOrigins: ["*"] });
    expect(await firstWords(url, "https://evil.example")).toBe("NBDMAGIC");
  });
});
