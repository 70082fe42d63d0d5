import { describe, expect, test } from "vitest";
import { Extents } from "../../../src/api/extents.ts";
import { CACHE_MODE, EXTENT } from "../../../src/api/plugin.ts";
import { Backend } from "../../../src/backend/backend.ts";
import { applyParams, finishConfiguration } from "../../../src/backend/configure.ts";
import { stackFilters } from "../../../src/backend/filter-stack.ts";
import { createCowFilter } from "../../../src/filters/cow/cow.ts";
import type { PluginHost } from "../../../src/io.ts";
import { createMemoryPlugin } from "../../../src/plugins/memory.ts";
import { failure, filtered } from "../../helpers/filtered.ts";
import { type Ram, ramPlugin } from "../../helpers/ram-plugin.ts";

const BLOCK = 65536;

/** A disk of 1 MiB whose 4 KiB block i holds i + 1, under the cow filter with `params`. */
async function cow(params: string[] = [], ram: Ram = numbered(), host?: PluginHost) {
  return await filtered(createCowFilter(host), params, ram);
}

function numbered(options: Parameters<typeof ramPlugin>[0] = {}): Ram {
  const ram = ramPlugin(options);
  for (let at = 0; at < 1024 * 1024; at += 4096) {
    ram.write(at, new Uint8Array(4096).fill(at / 4096 + 1));
  }
  ram.calls.length = 0;
  return ram;
}

async function read(backend: Backend, count: number, offset: number): Promise<Uint8Array> {
  const buf = new Uint8Array(count);
  await backend.readAt(buf, offset);
  return buf;
}

async function map(backend: Backend, count: number, offset: number) {
  const list = new Extents(offset, backend.caps.size);
  await backend.extents(count, offset, false, list);
  return list.types.map((type, i) => [Number(list.starts[i]), Number(list.ends[i]), type]);
}

const writesBelow = (ram: Ram) =>
  ram.calls.filter((call) => ["writeAt", "trim", "zero", "flush"].includes(call.op));

describe("cow filter", () => {
  test("opens the plugin read-only and offers every write-like command but zero, as nbdkit", async () => {
    const { backend } = await cow();
    expect(backend.caps).toMatchObject({
      writable: true,
      flush: true,
      fua: 2,
      trim: true,
      zeroNative: false,
      zeroNone: true,
      fastZero: false,
      extents: true,
      multiConn: true,
      cache: CACHE_MODE.NATIVE,
      blockSize: { minimum: 1, preferred: BLOCK, maximum: 0xffffffff },
    });
  });

  test("writes, trims and flushes never reach the plugin, and read back over it", async () => {
    const { backend, ram } = await cow();
    await backend.writeAt(new Uint8Array(100).fill(0xaa), 70000, true);
    await backend.trim(BLOCK * 3 + 10, BLOCK * 6 - 10, false);
    await backend.flush();
    expect(writesBelow(ram)).toEqual([]);
    expect([...await read(backend, 4, 69998)]).toEqual([18, 18, 0xaa, 0xaa]);
    expect([...await read(backend, 4, 70098)]).toEqual([0xaa, 0xaa, 18, 18]);
    expect([...await read(backend, 4, BLOCK * 6 - 12)]).toEqual([96, 96, 0, 0]);
    expect([...await read(backend, 4, BLOCK * 9 - 2)]).toEqual([0, 0, 145, 145]);
    expect([...ram.read(70000, 2)]).toEqual([18, 18]);
  });

  test("a partial write reads its block from the plugin once; whole and later writes do not", async () => {
    const { backend, ram } = await cow();
    await backend.writeAt(new Uint8Array(10), 5, false);
    await backend.writeAt(new Uint8Array(10), 500, false);
    await backend.writeAt(new Uint8Array(BLOCK), BLOCK * 2, false);
    await backend.writeAt(new Uint8Array(BLOCK + 20), BLOCK * 4 - 10, false);
    expect(ram.callsOf("readAt").map((call) => [call.offset, call.count])).toEqual([
      [0, BLOCK],
      [BLOCK * 3, BLOCK],
      [BLOCK * 5, BLOCK],
    ]);
  });

  test("a read asks the plugin only for the bytes not in the overlay", async () => {
    const { backend, ram } = await cow();
    await backend.writeAt(new Uint8Array(BLOCK), BLOCK, false);
    ram.calls.length = 0;
    await read(backend, BLOCK * 2, BLOCK / 2);
    expect(ram.callsOf("readAt").map((call) => [call.offset, call.count])).toEqual([
      [BLOCK / 2, BLOCK / 2],
      [BLOCK * 2, BLOCK / 2],
    ]);
  });

  test("whole blocks trimmed are holes in the map, partly trimmed or written ones data", async () => {
    const { backend } = await cow([], ramPlugin());
    await backend.writeAt(Uint8Array.of(1), BLOCK, false);
    await backend.trim(BLOCK * 2 + 200, BLOCK * 3 - 100, false);
    expect(await map(backend, BLOCK * 8, 0)).toEqual([
      [0, BLOCK, EXTENT.HOLE | EXTENT.ZERO], // the plugin's hole (4 KiB pieces, merged)
      [BLOCK, BLOCK * 3, EXTENT.DATA], // written, and the block of the trim's partial head
      [BLOCK * 3, BLOCK * 5, EXTENT.HOLE | EXTENT.ZERO], // trimmed whole
      [BLOCK * 5, BLOCK * 6, EXTENT.DATA], // the partial tail
      [BLOCK * 6, BLOCK * 8, EXTENT.HOLE | EXTENT.ZERO],
    ]);
  });

  test("over a plugin without extents, blocks not in the overlay are data", async () => {
    const { backend } = await cow([], ramPlugin({ omit: ["extents"] }));
    await backend.trim(BLOCK, BLOCK, false);
    expect(await map(backend, BLOCK * 3, 0)).toEqual([
      [0, BLOCK, EXTENT.DATA],
      [BLOCK, BLOCK * 2, EXTENT.HOLE | EXTENT.ZERO],
      [BLOCK * 2, BLOCK * 3, EXTENT.DATA], // the answer ends with the request's last block
    ]);
  });

  test("cow-on-read=true keeps what is read, so the plugin is asked once per block", async () => {
    const { backend, ram } = await cow(["cow-on-read=true"], ramPlugin());
    await read(backend, 100, 10);
    await read(backend, 100, 10);
    await read(backend, BLOCK * 2, BLOCK / 2);
    expect(ram.callsOf("readAt").map((call) => [call.offset, call.count])).toEqual([
      [0, BLOCK],
      [BLOCK, BLOCK * 2],
    ]);
    // What is kept is in the overlay, so it is data, as in nbdkit, even where below is a hole.
    expect(await map(backend, BLOCK * 4, 0)).toEqual([
      [0, BLOCK * 3, EXTENT.DATA],
      [BLOCK * 3, BLOCK * 4, EXTENT.HOLE | EXTENT.ZERO],
    ]);
  });

  test("cow-on-read=/PATH keeps reads only while the file exists", async () => {
    let exists = false;
    const host = { pathExists: () => exists } as unknown as PluginHost;
    const { backend, ram } = await cow(["cow-on-read=/switch"], numbered(), host);
    await read(backend, 10, 0);
    await read(backend, 10, 0);
    exists = true;
    await read(backend, 10, 0);
    await read(backend, 10, 0);
    expect(ram.callsOf("readAt").map((call) => call.count)).toEqual([10, 10, BLOCK]);
  });

  test("cache requests: cow-on-cache reads blocks into the overlay, else they go below", async () => {
    const kept = await cow(["cow-on-cache=true"]);
    await kept.backend.cache(100, BLOCK - 50);
    await read(kept.backend, BLOCK * 2, 0);
    expect(kept.ram.calls.map((call) => [call.op, call.offset, call.count])).toEqual([
      ["readAt", 0, BLOCK * 2],
    ]);
    const passed = await cow();
    await passed.backend.writeAt(new Uint8Array(BLOCK), 0, false);
    await passed.backend.cache(BLOCK * 3, 100);
    expect(passed.ram.callsOf("cache").map((call) => [call.offset, call.count])).toEqual([
      [BLOCK, BLOCK * 3],
    ]);
    const none = await cow([], numbered({ with: { canCache: () => CACHE_MODE.NONE } }));
    await none.backend.cache(BLOCK, 0);
    expect(none.ram.calls).toEqual([]);
  });

  test("every connection shares the one overlay, which outlives them", async () => {
    const ram = numbered();
    const top = stackFilters([createCowFilter()], ram.plugin);
    await finishConfiguration(top);
    const first = await Backend.open(top, false, "");
    await first.writeAt(Uint8Array.of(7, 7), 0, false);
    await first.close();
    const second = await Backend.open(top, false, "");
    expect([...await read(second, 3, 0)]).toEqual([7, 7, 1]);
    expect(ram.opens).toBe(2);
  });

  test("reads wholly in the overlay are lent from its pages; others are not", async () => {
    const { backend } = await cow();
    await backend.writeAt(new Uint8Array(BLOCK * 2).fill(3), 0, false);
    const lent = backend.readViews(BLOCK, BLOCK / 2);
    expect(lent?.views.reduce((sum, view) => sum + view.length, 0)).toBe(BLOCK);
    expect(lent?.views.every((view) => view.every((byte) => byte === 3))).toBe(true);
    lent?.release();
    expect(backend.readViews(BLOCK * 2, BLOCK)).toBeUndefined();
    expect(backend.readViews(100, 0)).toBeUndefined(); // small reads are copied
  });

  test("a read of blocks scattered in memory (kept in reverse order) is copied, not lent", async () => {
    const { backend } = await cow();
    for (let block = 5; block >= 0; block--) {
      await backend.writeAt(new Uint8Array(BLOCK).fill(block + 1), block * BLOCK, false);
    }
    const four = backend.readViews(BLOCK * 4, 0);
    expect(four?.views).toHaveLength(4);
    four?.release();
    expect(backend.readViews(BLOCK * 6, 0)).toBeUndefined();
    expect([...await read(backend, 6, BLOCK * 3 - 3)]).toEqual([3, 3, 3, 4, 4, 4]);
  });

  test("a disk of 2^63-1 bytes: writes across its last blocks read back exactly", async () => {
    const top = stackFilters([createCowFilter()], createMemoryPlugin());
    await applyParams(top, [{ key: "size", value: String(2n ** 63n - 1n) }]);
    await finishConfiguration(top);
    const backend = await Backend.open(top, false, "");
    const end = 2n ** 63n - 1n;
    const data = new Uint8Array(BLOCK + 7).fill(9);
    await backend.writeAt(data, end - BigInt(data.length), false);
    const back = new Uint8Array(BLOCK + 9);
    await backend.readAt(back, end - BigInt(back.length));
    expect([...back.subarray(0, 3)]).toEqual([0, 0, 9]);
    expect(back.subarray(2).every((byte) => byte === 9)).toBe(true);
    await backend.trim(BLOCK * 2, end - BigInt(BLOCK * 2), false);
    const list = new Extents(end - BigInt(BLOCK * 3), end);
    await backend.extents(BLOCK * 3, end - BigInt(BLOCK * 3), false, list);
    expect(list.types).toEqual([
      EXTENT.HOLE | EXTENT.ZERO,
      EXTENT.DATA,
      EXTENT.HOLE | EXTENT.ZERO,
      EXTENT.DATA,
    ]);
  });

  test("parameters are refused with nbdkit's messages", async () => {
    for (
      const [param, message] of [
        ["cow-block-size=1000", "cow-block-size is out of range (4096..2G) or not a power of 2"],
        ["cow-block-size=12k", "cow-block-size is out of range (4096..2G) or not a power of 2"],
        ["cow-block-size=4G", "cow-block-size is out of range (4096..2G) or not a power of 2"],
        ["cow-on-cache=maybe", "could not decipher boolean (maybe)"],
        ["cow-on-read=relative/path", "could not decipher boolean (relative/path)"],
        ["cow-on-read=/x", "cow-on-read=/PATH needs files, which this runtime does not give"],
      ]
    ) {
      expect(await failure(() => cow([param]))).toMatchObject({
        message: `cow: error: ${message}`,
      });
    }
    const { backend } = await cow(["cow-block-size=4k"]);
    expect(backend.caps.blockSize).toEqual({ minimum: 1, preferred: 4096, maximum: 0xffffffff });
  });
});
