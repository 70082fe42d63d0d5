/**
 * Embedding: a Server made from a plugin object serves real clients over a Web Streams pair and
 * over a WebSocket. nbdinfo and nbdsh speak TCP/Unix sockets only, so the test bridges: a Unix
 * socket whose bytes become a Web Streams pair, and a Unix socket piped into a WebSocket client.
 * These are our embedding API (nbdkit has none), so they run against nbdts alone.
 */

import { createServer as createNetServer, type Server as NetServer, type Socket } from "node:net";
import { Duplex } from "node:stream";
import { afterEach, describe, expect, test } from "vitest";
import { WebSocket, WebSocketServer } from "ws";
import { createServer, serveStream, serveWebSocket } from "../../src/embed/serve.ts";
import { createMemoryPlugin } from "../../src/plugins/memory.ts";
import type { Server } from "../../src/connection/server.ts";
import { expectSuccess, run, scratchDir } from "../helpers/captive.ts";
import { requireClients } from "../helpers/servers.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function listen(server: NetServer, path: string): Promise<void> {
  cleanups.push(() => new Promise<void>((done) => server.close(() => done())));
  return new Promise((resolve) => server.listen(path, resolve));
}

async function memoryServer(): Promise<Server> {
  const server = await createServer(createMemoryPlugin(), { params: { size: "4M" } });
  cleanups.push(() => server.shutdown());
  return server;
}

/** A Unix socket whose connections are served as Web Streams pairs. */
async function streamBridge(server: Server): Promise<string> {
  const path = `${scratchDir()}/stream.sock`;
  const sockets: Socket[] = [];
  cleanups.push(() => sockets.forEach((socket) => socket.destroy()));
  await listen(
    createNetServer((socket) => {
      sockets.push(socket);
      const { readable, writable } = Duplex.toWeb(socket);
      void serveStream(server, {
        readable: readable as ReadableStream<Uint8Array>,
        writable: writable as WritableStream<Uint8Array>,
      });
    }),
    path,
  );
  return path;
}

/** A WebSocket server for NBD, and a Unix socket that forwards each connection to it. */
async function websocketBridge(server: Server): Promise<string> {
  const wss = new WebSocketServer({ port: 0, host: "127.0.0.1" });
  await new Promise<void>((resolve) => wss.on("listening", () => resolve()));
  cleanups.push(() => new Promise<void>((done) => wss.close(() => done())));
  wss.on(
    "connection",
    (ws) => serveWebSocket(server, ws as unknown as WebSocket & { binaryType: string }),
  );
  const port = (wss.address() as { port: number }).port;

  const path = `${scratchDir()}/ws.sock`;
  const clients: WebSocket[] = [];
  cleanups.push(() => clients.forEach((ws) => ws.terminate()));
  await listen(
    createNetServer((socket) => {
      socket.pause();
      const ws = new WebSocket(`ws://127.0.0.1:${port}/`);
      clients.push(ws);
      ws.binaryType = "nodebuffer";
      ws.on("open", () => socket.resume());
      socket.on("data", (chunk) => ws.send(chunk));
      ws.on("message", (data) => socket.write(data as Buffer));
      socket.on("close", () => ws.close());
      ws.on("close", () => socket.destroy());
    }),
    path,
  );
  return path;
}

const bridges = [
  { name: "Web Streams pair", bridge: streamBridge },
  { name: "WebSocket", bridge: websocketBridge },
];

describe.each(bridges)("an embedded server over a $name", ({ bridge }) => {
  test("nbdinfo sees the disk and its flags", async (context) => {
    requireClients(context, "nbdinfo");
    const path = await bridge(await memoryServer());
    const { stdout } = expectSuccess(
      await run(["nbdinfo", "--json", `nbd+unix:///?socket=${path}`]),
    );
    expect(JSON.parse(stdout).exports[0]).toMatchObject({
      "export-size": 4 * 1024 * 1024,
      is_read_only: false,
      can_multi_conn: true,
    });
  });

  test("nbdsh writes 2 MiB of data, reads it back, and maps it", async (context) => {
    requireClients(context, "nbdsh");
    const path = await bridge(await memoryServer());
    const script = `
import os
data = os.urandom(2 * 1024 * 1024)
h.pwrite(data, 1024 * 1024)
assert h.pread(len(data), 1024 * 1024) == data
found = []
h.block_status(4 * 1024 * 1024, 0,
  lambda ctx, off, entries, err: found.extend(entries) or 0)
print(found[:4])
`;
    const { stdout } = expectSuccess(
      await run(["nbdsh", "--base-allocation", "-u", `nbd+unix:///?socket=${path}`, "-c", script]),
    );
    expect(stdout.trim()).toBe("[1048576, 3, 2097152, 0]");
  });
});
