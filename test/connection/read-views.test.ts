// READ replies sent from a plugin's lent views (Handle.readViews): the same bytes on the wire as
// a copied reply, and every loan released exactly once: when the runtime confirms the write,
// at once when the reply is a hole or dropped, never while the runtime may still read it.

import { describe, expect, test } from "vitest";
import { createSparseAllocator } from "../../src/allocators/sparse.ts";
import { BufferPool } from "../../src/connection/buffer-pool.ts";
import { Output } from "../../src/connection/output.ts";
import type { Plugin, ReadViews } from "../../src/api/plugin.ts";
import { CMD, NBD_ERR, REPLY_TYPE } from "../../src/protocol/constants.ts";
import {
  connect,
  errorOf,
  type HandshakeOptions,
  TestChannel,
  testServer,
  tick,
} from "../helpers/wire.ts";

const PAGE = 4096;
const MiB = 1024 * 1024;
const SR: HandshakeOptions = { structuredReplies: true };

/** A RAM disk on the sparse allocator that lends reads, counting its loans and releases. */
function lendingDisk(answer?: (loan: ReadViews) => ReadViews) {
  const store = createSparseAllocator(BigInt(8 * MiB));
  const disk = { store, lent: 0, released: 0, plugin: undefined as unknown as Plugin };
  disk.plugin = {
    name: "lending",
    open: () => ({
      getSize: () => 8 * MiB,
      readAt: (buf, offset) => store.read(buf, offset),
      readViews(count, offset) {
        const loan = store.lend(count, offset);
        if (!loan) return undefined;
        disk.lent++;
        const counted = {
          views: loan.views,
          isAllZero: () => loan.isAllZero(),
          release() {
            disk.released++;
            loan.release();
          },
        };
        return answer ? answer(counted) : counted;
      },
      writeAt: (buf, offset) => store.write(buf, offset),
      trim: (count, offset) => store.zero(count, offset),
    }),
  };
  return disk;
}

/** Data, a hole and data again, written at unaligned offsets. */
function mixedContent(disk: ReturnType<typeof lendingDisk>): void {
  disk.store.write(new Uint8Array(70_000).map((_, i) => (i * 13 + 1) & 0xff), 1234);
  disk.store.write(new Uint8Array(3 * PAGE + 5).fill(0xa5), 300_000);
}

/** What the server sends for a few READs, with or without lending. */
async function wireBytes(confirmsWrites: boolean, handshake: HandshakeOptions) {
  const disk = lendingDisk();
  mixedContent(disk);
  const conn = connect(testServer(disk.plugin).server);
  conn.channel.confirmsWrites = confirmsWrites;
  await conn.handshake(handshake);
  const start = conn.channel.length;
  const reads = [[0, 400_000], [17, 64 * 1024], [MiB, 256 * 1024], [1234, 40_000]];
  reads.forEach(([offset, length], i) => {
    conn.request({ type: CMD.READ, cookie: i + 1, offset, length });
  });
  await conn.settle();
  conn.channel.confirm();
  return { bytes: conn.channel.bytes(start).slice(), disk };
}

describe("READ replies from lent views", () => {
  for (const [name, handshake] of [["simple", {}], ["structured", SR]] as const) {
    test(`${name} replies are byte for byte those of copied reads`, async () => {
      const copied = await wireBytes(false, handshake);
      const lent = await wireBytes(true, handshake);
      expect(copied.disk.lent).toBe(0); // a channel that confirms nothing gets no views
      expect(lent.disk.lent).toBe(4);
      expect(lent.bytes.length).toBe(copied.bytes.length);
      expect(lent.bytes.every((byte, i) => byte === copied.bytes[i])).toBe(true);
      expect(lent.disk.released).toBe(4);
    });
  }

  test("an all-zero READ is one OFFSET_HOLE chunk, and its loan is released at once", async () => {
    const disk = lendingDisk();
    const conn = connect(testServer(disk.plugin).server);
    conn.channel.confirmsWrites = true;
    await conn.handshake(SR);
    const reply = await conn.roundTrip({ type: CMD.READ, cookie: 5, offset: MiB, length: MiB });
    expect(reply).toMatchObject({ kind: "chunk", type: REPLY_TYPE.OFFSET_HOLE });
    expect([disk.lent, disk.released]).toEqual([1, 1]);
  });

  test("lent pages outlive a trim until the runtime confirms the reply, then are freed", async () => {
    const disk = lendingDisk();
    disk.store.write(new Uint8Array(16 * PAGE).fill(9), 0);
    const conn = connect(testServer(disk.plugin).server);
    conn.channel.confirmsWrites = true;
    await conn.handshake();
    expect(errorOf(await conn.roundTrip({ type: CMD.READ, cookie: 1, length: 16 * PAGE }))).toBe(0);
    const trim = await conn.roundTrip({ type: CMD.TRIM, cookie: 2, length: 16 * PAGE });
    expect(errorOf(trim)).toBe(0);
    expect(disk.store.allocatedBytes()).toBe(16 * PAGE); // the reply may still be on its way
    conn.channel.confirm();
    expect(disk.released).toBe(1);
    expect(disk.store.allocatedBytes()).toBe(0);
  });

  test("views that do not add up to the READ fail it with EIO, and are released", async () => {
    const disk = lendingDisk((loan) => ({ ...loan, views: loan.views.slice(1) }));
    disk.store.write(new Uint8Array(PAGE).fill(1), 0);
    const { server, logs } = testServer(disk.plugin);
    const conn = connect(server);
    conn.channel.confirmsWrites = true;
    await conn.handshake();
    disk.store.write(new Uint8Array(PAGE).fill(2), 20 * PAGE); // two views: data, then a hole
    const reply = await conn.roundTrip({ type: CMD.READ, cookie: 1, length: 64 * 1024 });
    expect(errorOf(reply)).toBe(NBD_ERR.EIO);
    expect(logs.join("\n")).toMatch(/readViews returned views of \d+ bytes/);
    expect([disk.lent, disk.released]).toEqual([1, 1]);
  });
});

describe("Output and lent parts", () => {
  function lentOutput() {
    const channel = new TestChannel();
    channel.confirmsWrites = true;
    const output = new Output(channel, () => {}, new BufferPool());
    let released = 0;
    const loan = { release: () => void released++ };
    return { channel, output, loan, released: () => released };
  }

  test("a lent reply is released once its batch is confirmed, not when it is handed over", async () => {
    const { channel, output, loan, released } = lentOutput();
    output.reserve(16); // the reply's header
    output.pushLent([new Uint8Array(PAGE)], loan);
    await tick();
    expect(channel.length).toBe(16 + PAGE);
    expect(released()).toBe(0);
    channel.confirm();
    channel.confirm();
    expect(released()).toBe(1);
  });

  test("a lent reply still queued when the output is discarded is released at once", () => {
    const { output, loan, released } = lentOutput();
    output.reserve(16); // the reply's header
    output.pushLent([new Uint8Array(PAGE)], loan);
    output.discard();
    expect(released()).toBe(1);
    output.reserve(16); // the reply's header
    output.pushLent([new Uint8Array(PAGE)], loan); // after: dropped, released
    expect(released()).toBe(2);
  });
});
