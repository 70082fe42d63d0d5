/**
 * Inputs the socket fuzzer (test/fuzz/socket-fuzz.test.ts) found that end nbdkit 1.32.5 with
 * a failed assertion, pinned here for nbdts, which must answer them and keep serving. They run
 * on the in-memory connection, not as interop tests, because nbdkit cannot pass them.
 */

import { describe, expect, test } from "vitest";
import { createMemoryPlugin } from "../../src/plugins/memory.ts";
import { CMD, NBD_ERR, STATE } from "../../src/protocol/constants.ts";
import {
  type Chunk,
  concat,
  connect,
  errorOf,
  parseBlockStatus,
  testServer,
  wireRequest,
} from "../helpers/wire.ts";

const SIZE = 1n << 62n;

async function memoryDisk() {
  const plugin = createMemoryPlugin();
  await plugin.config?.("size", String(SIZE));
  await plugin.configComplete?.();
  return testServer(plugin).server;
}

describe("inputs that end nbdkit 1.32.5", () => {
  test("BLOCK_STATUS of 2^32 - 1 bytes inside a longer hole gets one descriptor of that length", async () => {
    // nbdkit: protocol.c extents_to_block_descriptors, `assert (e.length <= length)`.
    const server = await memoryDisk();
    const conn = connect(server);
    await conn.handshake({ structuredReplies: true, baseAllocation: true });
    const reply = await conn.roundTrip({
      type: CMD.BLOCK_STATUS,
      cookie: 1,
      offset: 202462787863378230n,
      length: 0xffffffff,
    });
    expect(errorOf(reply)).toBe(NBD_ERR.SUCCESS);
    expect(parseBlockStatus((reply as Chunk).payload).descriptors).toEqual([
      { length: 0xffffffff, status: STATE.HOLE | STATE.ZERO },
    ]);
  });

  test("a bad request magic while requests run: they are answered, then the connection closes", async () => {
    // nbdkit: connections.c raw_send_socket, `assert (sock >= 0)` when a worker thread replies
    // after another closed the connection (fixed in 1.33.10).
    const server = await memoryDisk();
    const conn = connect(server);
    await conn.handshake();
    conn.send(concat(
      wireRequest({ type: CMD.CACHE, cookie: 1, offset: 1108671246573747493n, length: 1 << 30 }),
      wireRequest({ type: CMD.TRIM, cookie: 2, offset: 0, length: 4096 }),
      wireRequest({ type: CMD.FLUSH, cookie: 3, magic: 0x25609512 }),
    ));
    const cookies = [await conn.readReply(), await conn.readReply()].map((r) => r.cookie);
    expect(cookies.sort()).toEqual([1n, 2n]);
    await conn.closed();
    expect(conn.unread).toBe(0);
    const next = connect(server);
    await next.handshake();
    expect(errorOf(await next.roundTrip({ type: CMD.FLUSH, cookie: 4 }))).toBe(NBD_ERR.SUCCESS);
  });
});
