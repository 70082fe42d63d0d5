/**
 * The limits an embedder sets through createServer's options reach every connection: the
 * handshake deadline closes a Web Streams connection that never negotiates (with real timers
 * and a short deadline, or with the embedder's own timers), and maxPayload bounds requests.
 * These are our embedding API (nbdkit has no handshake deadline), so they run on nbdts alone.
 */

import { describe, expect, test } from "vitest";
import { createServer, serveStream } from "../../src/embed/serve.ts";
import { ConfigError } from "../../src/api/errors.ts";
import { createMemoryPlugin } from "../../src/plugins/memory.ts";
import type { Server } from "../../src/connection/server.ts";
import { ManualTimers } from "../helpers/manual-timers.ts";
import { concat, infoData, u32, wireOption, wireRequest } from "../helpers/wire.ts";

/** One Web Streams connection to `server`: what the client writes, and all it will read. */
function streamClient(server: Server) {
  const toServer = new TransformStream<Uint8Array, Uint8Array>();
  const fromServer = new TransformStream<Uint8Array, Uint8Array>();
  const served = serveStream(server, {
    readable: toServer.readable,
    writable: fromServer.writable,
  });
  const writer = toServer.writable.getWriter();
  /** Everything the server sends until it closes the connection. */
  const everything = (async () => {
    const parts: Uint8Array[] = [];
    const reader = fromServer.readable.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return concat(...parts);
      parts.push(value);
    }
  })();
  return { served, writer, everything };
}

describe("createServer limits", () => {
  test("handshakeTimeoutMs closes a connection that never negotiates, and logs it", async () => {
    const logs: string[] = [];
    const server = await createServer(createMemoryPlugin(), {
      params: { size: "1M" },
      handshakeTimeoutMs: 200,
      log: (line) => logs.push(line),
    });
    const client = streamClient(server);
    await client.writer.write(u32(3)); // client flags, then silence
    const sent = await client.everything; // ends only when the server closes
    await client.served;
    expect(sent.length).toBe(18); // the greeting, nothing else
    expect(logs.join("")).toMatch(
      /limit handshakeTimeoutMs=200 exceeded by stream: negotiation not finished in time/,
    );
    expect(server.connections).toBe(0);
  });

  test("an embedder's own timers drive the deadline", async () => {
    const timers = new ManualTimers();
    const server = await createServer(createMemoryPlugin(), {
      params: { size: "1M" },
      timers,
      log: () => {},
    });
    const client = streamClient(server);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(timers.pending).toBe(1);
    timers.advance(60_000);
    expect((await client.everything).length).toBe(18);
    await client.served;
  });

  test("maxPayload bounds READ requests of every connection", async () => {
    const logs: string[] = [];
    const server = await createServer(createMemoryPlugin(), {
      params: { size: "1M" },
      maxPayload: 64 * 1024,
      log: (line) => logs.push(line),
    });
    const client = streamClient(server);
    await client.writer.write(
      concat(
        u32(3),
        wireOption(7, infoData("")),
        wireRequest({ type: 0, cookie: 9, length: 64 * 1024 + 1 }),
        wireRequest({ type: 2 }),
      ),
    );
    const sent = await client.everything;
    // Greeting (18), INFO_EXPORT reply (20 + 12), ACK (20), then one simple reply (16).
    const reply = sent.subarray(18 + 32 + 20);
    expect([...reply.subarray(0, 8)]).toEqual([0x67, 0x44, 0x66, 0x98, 0, 0, 0, 12]); // ENOMEM
    expect(logs.join("")).toMatch(/limit maxPayload=65536 exceeded by stream: READ of 65537/);
  });

  test("a maxPayload out of range is a ConfigError", async () => {
    const made = createServer(createMemoryPlugin(), { params: { size: "1M" }, maxPayload: 1 });
    await expect(made).rejects.toThrow(ConfigError);
    await expect(made).rejects.toThrow(/maxPayload "1"/);
  });
});
