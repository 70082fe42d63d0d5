// The memory plugin as man nbdkit-memory-plugin describes it: size= required (the magic key),
// allocator= choosing the store, one disk shared by every connection, no-op flush/FUA/cache.

import { describe, expect, test } from "vitest";
import { createMemoryPlugin } from "../../src/plugins/memory.ts";
import { ConfigError } from "../../src/api/errors.ts";
import {
  CACHE_MODE,
  EXTENT,
  FLAG,
  FUA_MODE,
  type Handle,
  type Offset,
  type Plugin,
  THREAD_MODEL,
} from "../../src/api/plugin.ts";

async function configured(params: Record<string, string>): Promise<Plugin> {
  const plugin = createMemoryPlugin();
  for (const [key, value] of Object.entries(params)) await plugin.config?.(key, value);
  await plugin.configComplete?.();
  return plugin;
}

async function extentsOf(handle: Handle, count: number, offset: Offset) {
  const list: [Offset, Offset, number][] = [];
  await handle.extents?.(count, offset, 0, { add: (o, l, t) => list.push([o, l, t]) });
  return list;
}

describe("memory plugin", () => {
  test("describes itself as nbdkit's memory plugin does", async () => {
    const plugin = createMemoryPlugin();
    expect(plugin.name).toBe("memory");
    expect(plugin.magicConfigKey).toBe("size");
    expect(plugin.configHelp).toMatch(/size=<SIZE>.*required/);
    expect(plugin.configHelp).toMatch(/allocator=/);
    expect(await plugin.threadModel?.()).toBe(THREAD_MODEL.PARALLEL);
    expect(await plugin.dumpPlugin?.()).toEqual(["mlock=no", "zstd=no"]);
  });

  test("size is required, unknown parameters and bad allocators are refused", async () => {
    await expect(configured({})).rejects.toThrow(/you must specify size=/);
    await expect(configured({ size: "1M", colour: "blue" })).rejects.toThrow(ConfigError);
    await expect(configured({ size: "1M", allocator: "zstd" })).rejects.toThrow(ConfigError);
    await expect(configured({ size: "1E", allocator: "malloc" })).rejects.toThrow(ConfigError);
    await expect(configured({ size: "lots" })).rejects.toThrow(ConfigError);
  });

  test("a disk reads zero, keeps writes, and zero and trim discard them", async () => {
    const handle = await (await configured({ size: "1M" })).open(false, "");
    expect(await handle.getSize()).toBe(1 << 20);
    const buf = new Uint8Array(8192);
    await handle.writeAt?.(new Uint8Array(8192).fill(0x42), 4096, FLAG.FUA);
    await handle.readAt(buf, 4096);
    expect(buf.every((b) => b === 0x42)).toBe(true);
    await handle.zero?.(4096, 4096, FLAG.MAY_TRIM | FLAG.FAST_ZERO);
    await handle.trim?.(100, 8192, FLAG.FUA);
    await handle.readAt(buf, 4096);
    expect(buf.subarray(0, 4196).every((b) => b === 0)).toBe(true);
    expect(buf.subarray(4196).every((b) => b === 0x42)).toBe(true);
    // nbdkit's 32 KiB pages: the one holding the bytes left is data, the rest a hole.
    expect(await extentsOf(handle, 1 << 20, 0)).toEqual([
      [0, 32768, EXTENT.DATA],
      [32768, (1 << 20) - 32768, EXTENT.HOLE | EXTENT.ZERO],
    ]);
    await handle.flush?.(0);
    await handle.cache?.(4096, 0, 0);
  });

  test("advertises multi-conn, native FUA and cache, and fast zero", async () => {
    const handle = await (await configured({ size: "1M" })).open(false, "");
    expect(await handle.canMultiConn?.()).toBe(true);
    expect(await handle.canFua?.()).toBe(FUA_MODE.NATIVE);
    expect(await handle.canCache?.()).toBe(CACHE_MODE.NATIVE);
    expect(await handle.canFastZero?.()).toBe(true);
  });

  test("every connection sees one disk; another plugin instance has its own", async () => {
    const plugin = await configured({ size: "64k" });
    const first = await plugin.open(false, "");
    const second = await plugin.open(true, "other");
    await first.writeAt?.(new Uint8Array([1, 2, 3]), 10, 0);
    const buf = new Uint8Array(3);
    await second.readAt(buf, 10);
    expect([...buf]).toEqual([1, 2, 3]);
    const fresh = await (await configured({ size: "64k" })).open(false, "");
    await fresh.readAt(buf, 10);
    expect([...buf]).toEqual([0, 0, 0]);
  });

  test("the largest disk, 2^63-1 bytes, serves its last sector", async () => {
    const handle = await (await configured({ size: String((1n << 63n) - 1n) })).open(false, "");
    const size = await handle.getSize();
    expect(size).toBe((1n << 63n) - 1n);
    const last = (size as bigint) - 512n;
    await handle.writeAt?.(new Uint8Array(512).fill(9), last, 0);
    const buf = new Uint8Array(512);
    await handle.readAt(buf, last);
    expect(buf.every((b) => b === 9)).toBe(true);
    expect(await extentsOf(handle, 512, last)).toEqual([[last, 512, EXTENT.DATA]]);
  });

  test("allocator=malloc stores the disk flat and reports it all as data", async () => {
    const handle = await (await configured({ size: "64k", allocator: "malloc" })).open(false, "");
    await handle.writeAt?.(new Uint8Array([7]), 100, 0);
    const buf = new Uint8Array(1);
    await handle.readAt(buf, 100);
    expect(buf[0]).toBe(7);
    expect(await extentsOf(handle, 65536, 0)).toEqual([[0, 65536, EXTENT.DATA]]);
  });

  for (const allocator of ["sparse", "malloc"]) {
    test(`allocator=${allocator}: a payload received into payloadBuffer is written by writeAt`, async () => {
      const handle = await (await configured({ size: "1M", allocator })).open(false, "");
      const room = handle.payloadBuffer!(100_000, 3000)!;
      expect(room.length).toBe(100_000);
      room.fill(0x77); // the server receives the payload here
      await handle.writeAt?.(room, 3000, 0);
      const buf = new Uint8Array(102_000);
      await handle.readAt(buf, 2000);
      expect(buf.subarray(0, 1000).every((b) => b === 0)).toBe(true);
      expect(buf.subarray(1000, 101_000).every((b) => b === 0x77)).toBe(true);
      expect(buf.subarray(101_000).every((b) => b === 0)).toBe(true);
      // A plain buffer still goes through the ordinary write.
      await handle.writeAt?.(new Uint8Array(100).fill(1), 0, 0);
      await handle.readAt(buf.subarray(0, 100), 0);
      expect(buf.subarray(0, 100).every((b) => b === 1)).toBe(true);
    });
  }

  test("small payloads get no room: copying them costs less", async () => {
    const handle = await (await configured({ size: "1M" })).open(false, "");
    expect(handle.payloadBuffer!(4096, 0)).toBeUndefined();
    expect(handle.payloadBuffer!(64 * 1024, 0)?.length).toBe(64 * 1024);
  });

  test("a connection that closes mid-payload lets the room go: zeroes are then freed", async () => {
    const plugin = await configured({ size: "1M" });
    const handle = await plugin.open(false, "");
    const room = handle.payloadBuffer!(16 * 4096, 0)!;
    room.subarray(0, 4096).fill(3); // only the first page arrived
    await handle.close?.();
    const other = await plugin.open(false, "");
    // Never written, as nbdkit sees it: the second 32 KiB page is a hole, not zeroes written.
    expect(await extentsOf(other, 16 * 4096, 0)).toEqual([
      [0, 32768, EXTENT.DATA],
      [32768, 32768, EXTENT.HOLE | EXTENT.ZERO],
    ]);
  });

  test("reads of 32 KiB or more are lent as views of the pages; smaller ones are copied", async () => {
    const handle = await (await configured({ size: "1M" })).open(false, "");
    await handle.writeAt?.(new Uint8Array(40 * 1024).fill(4), 1000, 0);
    expect(handle.readViews!(32 * 1024 - 1, 0)).toBeUndefined();
    const lent = handle.readViews!(64 * 1024, 0)!;
    const bytes = new Uint8Array(64 * 1024);
    let at = 0;
    for (const view of lent.views) {
      bytes.set(view, at);
      at += view.length;
    }
    const copied = new Uint8Array(64 * 1024);
    await handle.readAt(copied, 0);
    expect(at).toBe(64 * 1024);
    expect(bytes.every((byte, i) => byte === copied[i])).toBe(true);
    lent.release();
  });

  test("allocator=malloc copies every read", async () => {
    const handle = await (await configured({ size: "1M", allocator: "malloc" })).open(false, "");
    expect(handle.readViews!(1024 * 1024, 0)).toBeUndefined();
  });
});
