import { describe, expect, test } from "vitest";
import { ConfigError } from "../../src/api/errors.ts";
import { ExtentList } from "../../src/backend/extents.ts";
import type { Handle, Offset, Plugin } from "../../src/api/plugin.ts";
import { createNullPlugin } from "../../src/plugins/null.ts";
import { createPatternPlugin, fillPattern } from "../../src/plugins/pattern.ts";
import { CMD, CMD_FLAG, NBD_ERR, REPLY_TYPE, TX_FLAG } from "../../src/protocol/constants.ts";
import {
  connect,
  errorOf,
  parseBlockStatus,
  parseOffsetData,
  parseOffsetHole,
  testServer,
} from "../helpers/wire.ts";

const MAX = (1n << 63n) - 1n;

async function configured(plugin: Plugin, size: string): Promise<Plugin> {
  await plugin.config?.("size", size);
  return plugin;
}

async function handleOf(plugin: Plugin): Promise<Handle> {
  return await plugin.open(false, "");
}

/** The pattern byte at an absolute offset: byte (offset mod 8) of the big-endian u64 offset & ~7. */
function patternByte(offset: bigint): number {
  const word = offset & ~7n;
  return Number((word >> (8n * (7n - (offset & 7n)))) & 0xffn);
}

function expectedPattern(offset: Offset, length: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => patternByte(BigInt(offset) + BigInt(i)));
}

describe("null plugin", () => {
  test("size= sets the disk size, any other key is refused", async () => {
    const plugin = await configured(createNullPlugin(), "1M");
    expect(await (await handleOf(plugin)).getSize()).toBe(1024 * 1024);
    expect(() => createNullPlugin().config?.("file", "x")).toThrow(ConfigError);
    expect(createNullPlugin().magicConfigKey).toBe("size");
  });

  test("sizes past 2^53 are bigints, up to 2^63 - 1", async () => {
    const plugin = await configured(createNullPlugin(), MAX.toString());
    expect(await (await handleOf(plugin)).getSize()).toBe(MAX);
  });

  test("reads are zero, writes vanish, and everything is one hole", async () => {
    const handle = await handleOf(await configured(createNullPlugin(), "64k"));
    const buf = new Uint8Array(100).fill(0xff);
    await handle.readAt(buf, 7);
    expect(buf).toEqual(new Uint8Array(100));
    await handle.writeAt?.(new Uint8Array(8).fill(1), 0, 0);
    await handle.readAt(buf, 0);
    expect(buf).toEqual(new Uint8Array(100));
    const list = new ExtentList(1000, 65536);
    await handle.extents?.(100, 1000, 0, list);
    expect([list.starts, list.ends, list.types]).toEqual([[1000n], [65536n], [3]]);
  });

  test("served, it advertises what nbdkit's null plugin does (0x0DED with SR)", async () => {
    const { server } = testServer(await configured(createNullPlugin(), "1M"));
    const conn = connect(server);
    const { size, flags } = await conn.handshake({ structuredReplies: true, baseAllocation: true });
    expect(size).toBe(1024n * 1024n);
    expect(flags).toBe(0x0ded);
  });

  test("its last sector on a 2^63 - 1 byte disk reads as an exact OFFSET_HOLE", async () => {
    const { server } = testServer(await configured(createNullPlugin(), MAX.toString()));
    const conn = connect(server);
    await conn.handshake({ structuredReplies: true, baseAllocation: true });
    const offset = MAX - 512n;
    const reply = await conn.roundTrip({ type: CMD.READ, cookie: 1, offset, length: 512 });
    expect(reply).toMatchObject({ kind: "chunk", type: REPLY_TYPE.OFFSET_HOLE });
    if (reply.kind !== "chunk") return;
    expect(parseOffsetHole(reply.payload)).toEqual({ offset, size: 512 });
    const past = await conn.roundTrip({ type: CMD.READ, cookie: 2, offset: MAX, length: 1 });
    expect(errorOf(past)).toBe(NBD_ERR.EINVAL);
  });

  test("block status past 2^53 is one HOLE|ZERO descriptor capped at 2^32 - 1", async () => {
    const { server } = testServer(await configured(createNullPlugin(), MAX.toString()));
    const conn = connect(server);
    await conn.handshake({ structuredReplies: true, baseAllocation: true });
    const offset = (1n << 53n) + 3n;
    const all = await conn.roundTrip({ type: CMD.BLOCK_STATUS, cookie: 1, offset, length: 4096 });
    if (all.kind !== "chunk") throw new Error("expected a chunk");
    expect(parseBlockStatus(all.payload).descriptors).toEqual([
      { length: 0xffffffff, status: 3 },
    ]);
    const one = await conn.roundTrip({
      type: CMD.BLOCK_STATUS,
      flags: CMD_FLAG.REQ_ONE,
      cookie: 2,
      offset,
      length: 4096,
    });
    if (one.kind !== "chunk") throw new Error("expected a chunk");
    expect(parseBlockStatus(one.payload).descriptors).toEqual([{ length: 4096, status: 3 }]);
  });
});

describe("pattern plugin", () => {
  test("each 8-byte word holds its own offset, big-endian", () => {
    const buf = new Uint8Array(24);
    fillPattern(buf, 0);
    expect(Array.from(buf)).toEqual([
      ...[0, 0, 0, 0, 0, 0, 0, 0],
      ...[0, 0, 0, 0, 0, 0, 0, 8],
      ...[0, 0, 0, 0, 0, 0, 0, 16],
    ]);
  });

  test("reads at every unaligned offset and length match the pattern", () => {
    for (const base of [0, 0x1_0000_0000 - 8, 2 ** 40 + 1]) {
      for (let skew = 0; skew < 17; skew++) {
        for (let length = 0; length <= 40; length++) {
          const buf = new Uint8Array(length).fill(0xaa);
          fillPattern(buf, base + skew);
          expect(buf).toEqual(expectedPattern(base + skew, length));
        }
      }
    }
  });

  test("reads near and past 2^53 are exact, as numbers or bigints", () => {
    const offsets: Offset[] = [
      2 ** 53 - 64,
      2 ** 53 - 21,
      1n << 53n,
      (1n << 53n) + 5n,
      (1n << 60n) + 3n,
      MAX - 40n,
    ];
    for (const offset of offsets) {
      for (const length of [1, 7, 8, 9, 33]) {
        const buf = new Uint8Array(length);
        fillPattern(buf, offset);
        expect(buf, `${length} bytes at ${offset}`).toEqual(expectedPattern(offset, length));
      }
    }
  });

  test("it is a read-only disk: WRITE is EPERM", async () => {
    const { server } = testServer(await configured(createPatternPlugin(), "1M"));
    const conn = connect(server);
    const { flags } = await conn.handshake();
    expect(flags & TX_FLAG.READ_ONLY).toBe(TX_FLAG.READ_ONLY);
    const reply = await conn.roundTrip({ type: CMD.WRITE, cookie: 1, payload: new Uint8Array(8) });
    expect(errorOf(reply)).toBe(NBD_ERR.EPERM);
    expect(() => createPatternPlugin().config?.("size2", "1")).toThrow(ConfigError);
  });

  test("served, an unaligned READ past 2^53 returns the pattern at that offset", async () => {
    const { server } = testServer(await configured(createPatternPlugin(), MAX.toString()));
    const conn = connect(server);
    await conn.handshake({ structuredReplies: true });
    const offset = (1n << 62n) + 13n;
    const reply = await conn.roundTrip({ type: CMD.READ, cookie: 1, offset, length: 77 });
    if (reply.kind !== "chunk") throw new Error("expected a chunk");
    expect(parseOffsetData(reply.payload)).toEqual({ offset, data: expectedPattern(offset, 77) });
  });

  test("served without SR, a READ at offset 5 returns the pattern", async () => {
    const { server } = testServer(await configured(createPatternPlugin(), "1M"));
    const conn = connect(server);
    await conn.handshake();
    const reply = await conn.roundTrip({ type: CMD.READ, cookie: 1, offset: 5, length: 20 });
    expect(reply).toMatchObject({ kind: "simple", error: 0, data: expectedPattern(5, 20) });
  });
});
