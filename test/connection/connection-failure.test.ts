/**
 * A connection that fails (the runtime reports an error: the peer reset it, a write hit a
 * closed socket) can deliver no more replies, so the session starts none of the requests it
 * still holds, lets the running ones finish, closes the plugin handle, and keeps no idle
 * buffers; a clean end of stream, by contrast, still answers every request received before it.
 */

import { describe, expect, test } from "vitest";
import { CMD } from "../../src/protocol/constants.ts";
import { concat, connect, deferred, testServer, wireRequest } from "../helpers/wire.ts";
import { ramPlugin } from "../helpers/ram-plugin.ts";

/** READs sent at once: more than a session runs at a time (64), so some wait in its buffer. */
const READS = 100;

/** A connection in transmission whose channel writes stay pending until `gate` resolves. */
async function blockedConnection() {
  const ram = ramPlugin({ delay: () => 10 });
  const { server, logs } = testServer(ram.plugin, { verbose: true });
  const conn = connect(server);
  await conn.handshake();
  const gate = deferred();
  conn.channel.onWrite = () => gate.promise;
  const reads = Array.from(
    { length: READS },
    (_, i) => wireRequest({ type: CMD.READ, cookie: i, offset: i * 4096, length: 4096 }),
  );
  conn.send(concat(...reads));
  await conn.settle();
  return { ram, conn, logs, gate, server };
}

describe("a connection that fails", () => {
  test("starts none of the requests it still holds, and closes the handle", async () => {
    const { ram, conn, logs, server, gate } = await blockedConnection();
    const started = ram.callsOf("readAt").length;
    expect(started).toBeLessThan(READS);
    conn.receiver.end(new Error("write EPIPE"));
    gate.resolve(); // a failed channel settles its pending writes, as every runtime adapter does
    await conn.closed();
    await conn.settle();
    expect(ram.callsOf("readAt")).toHaveLength(started);
    expect(ram.closes).toBe(1);
    expect(server.connections).toBe(0);
    expect(logs.join("")).toMatch(/debug: connection error: write EPIPE/);
  });

  test("a clean end of stream still answers every request received before it", async () => {
    const { ram, conn, gate } = await blockedConnection();
    conn.end();
    conn.channel.onWrite = () => undefined;
    gate.resolve();
    await conn.closed();
    expect(ram.callsOf("readAt")).toHaveLength(READS);
    expect(ram.closes).toBe(1);
  });
});
