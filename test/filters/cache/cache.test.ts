import { describe, expect, test } from "vitest";
import { Extents } from "../../../src/api/extents.ts";
import { CACHE_MODE, EXTENT, FUA_MODE } from "../../../src/api/plugin.ts";
import type { Backend } from "../../../src/backend/backend.ts";
import { createCacheFilter } from "../../../src/filters/cache/cache.ts";
import { failure, filtered } from "../../helpers/filtered.ts";
import { type Ram, ramPlugin } from "../../helpers/ram-plugin.ts";

const BLOCK = 65536;

async function cache(params: string[] = [], ram: Ram = numbered()) {
  return await filtered(createCacheFilter(), params, ram);
}

/** 2 MiB whose 4 KiB block i holds i + 1 (mod 256). */
function numbered(options: Parameters<typeof ramPlugin>[0] = {}): Ram {
  const ram = ramPlugin({ size: 2 * 1024 * 1024, ...options });
  for (let at = 0; at < 2 * 1024 * 1024; at += 4096) {
    ram.write(at, new Uint8Array(4096).fill((at / 4096 + 1) & 0xff));
  }
  return ram;
}

async function read(backend: Backend, count: number, offset: number): Promise<Uint8Array> {
  const buf = new Uint8Array(count);
  await backend.readAt(buf, offset);
  return buf;
}

/** The calls the plugin got since the last look, as "op offset count", and forgets them. */
function taken(ram: Ram): string[] {
  const calls = ram.calls.map((call) =>
    [call.op, call.offset, call.count].filter((part) => part !== undefined).join(" ")
  );
  ram.calls.length = 0;
  return calls;
}

describe("cache filter: modes", () => {
  test("capabilities follow nbdkit's per mode", async () => {
    const writeback = await cache();
    expect(writeback.backend.caps).toMatchObject({
      flush: true,
      fua: FUA_MODE.EMULATE,
      multiConn: true,
      cache: CACHE_MODE.NATIVE,
      fastZero: true,
      blockSize: { minimum: 1, preferred: BLOCK, maximum: 0xffffffff },
    });
    const through = await cache(["cache=writethrough"]);
    expect(through.backend.caps).toMatchObject({ multiConn: false, fua: FUA_MODE.EMULATE });
    const unsafe = await cache(["cache=unsafe"], numbered({ omit: ["flush"] }));
    expect(unsafe.backend.caps).toMatchObject({ flush: true, fua: FUA_MODE.NATIVE });
  });

  test("writeback keeps writes until a flush writes every dirty block back, in order", async () => {
    const { backend, ram } = await cache();
    taken(ram);
    await backend.writeAt(new Uint8Array(BLOCK).fill(1), BLOCK * 3, false);
    await backend.writeAt(new Uint8Array(10).fill(2), 5, false);
    expect(taken(ram)).toEqual([`readAt 0 ${BLOCK}`]); // the partial block, read to be kept
    expect([...await read(backend, 3, 14)]).toEqual([2, 1, 1]);
    expect(taken(ram)).toEqual([]);
    await backend.flush();
    expect(taken(ram)).toEqual([`writeAt 0 ${BLOCK}`, `writeAt ${BLOCK * 3} ${BLOCK}`, "flush"]);
    expect([...ram.read(3, 4)]).toEqual([1, 1, 2, 2]);
    await backend.flush();
    expect(taken(ram)).toEqual(["flush"]);
  });

  test("writethrough writes below at once, and what it wrote reads from the cache", async () => {
    const { backend, ram } = await cache(["cache=writethrough"]);
    taken(ram);
    await backend.writeAt(new Uint8Array(BLOCK).fill(7), BLOCK, false);
    expect(taken(ram)).toEqual([`writeAt ${BLOCK} ${BLOCK}`]);
    await read(backend, BLOCK, BLOCK);
    await backend.flush();
    expect(taken(ram)).toEqual(["flush"]);
  });

  test("unsafe ignores flushes and FUA", async () => {
    const { backend, ram } = await cache(["cache=unsafe"]);
    taken(ram);
    await backend.writeAt(new Uint8Array(BLOCK), 0, true);
    await backend.flush();
    expect(taken(ram)).toEqual([]);
  });

  test("zeroes are written into the cache like writes; a fast zero fails with ENOTSUP", async () => {
    const { backend, ram } = await cache();
    taken(ram);
    await backend.zero(BLOCK, BLOCK, true, false, false);
    expect([...await read(backend, 2, BLOCK * 2 - 1)]).toEqual([0, 33]);
    expect(taken(ram)).toEqual([`readAt ${BLOCK * 2} 1`]);
    expect(await failure(() => backend.zero(BLOCK, 0, false, false, true))).toMatchObject({
      errno: "ENOTSUP",
    });
    const through = await cache(["cache=writethrough"]);
    taken(through.ram);
    await through.backend.zero(100, 0, true, false, false);
    expect(taken(through.ram)).toEqual(["zero 0 100", `readAt 0 ${BLOCK}`]);
  });
});

describe("cache filter: what it keeps", () => {
  test("reads go below for just their bytes, unless cache-on-read keeps whole blocks", async () => {
    const plain = await cache();
    taken(plain.ram);
    await read(plain.backend, 100, 10);
    await read(plain.backend, 100, 10);
    expect(taken(plain.ram)).toEqual(["readAt 10 100", "readAt 10 100"]);
    const kept = await cache(["cache-on-read=true", "cache-min-block-size=256k"]);
    taken(kept.ram);
    await read(kept.backend, 100, 10);
    await read(kept.backend, 100, 10);
    expect(taken(kept.ram)).toEqual([`readAt 0 ${4 * BLOCK}`]);
  });

  test("a cache request keeps its blocks whatever cache-on-read says", async () => {
    const { backend, ram } = await cache();
    taken(ram);
    await backend.cache(100, BLOCK - 50);
    await read(backend, BLOCK * 2, 0);
    expect(taken(ram)).toEqual([`readAt 0 ${BLOCK * 2}`]);
  });

  test("cache-max-size lets the least recently used blocks go, past the high threshold", async () => {
    // 1 MiB of 64 KiB blocks: reclaiming starts at 16 blocks (95%) and ends below 13 (80%).
    const { backend, ram } = await cache(["cache-on-read=true", "cache-max-size=1M"]);
    for (let block = 0; block < 15; block++) await read(backend, 1, block * BLOCK);
    await read(backend, 1, 0); // block 0 is used again: now block 1 is the oldest
    taken(ram);
    await read(backend, 1, 15 * BLOCK); // the 16th block: 4 go, 12 stay
    expect(taken(ram)).toEqual([`readAt ${15 * BLOCK} ${BLOCK}`]);
    const asked = async (block: number) => {
      await read(backend, 1, block * BLOCK);
      return taken(ram).length > 0;
    };
    expect(await asked(0)).toBe(false);
    expect(await asked(5)).toBe(false);
    expect(await asked(15)).toBe(false);
    expect(await asked(4)).toBe(true);
  });

  test("a dirty block is written back before it is let go, so no write is lost", async () => {
    const { backend, ram } = await cache(["cache-max-size=1M"]);
    taken(ram);
    for (let block = 0; block < 20; block++) {
      await backend.writeAt(new Uint8Array(BLOCK).fill(200 + block), block * BLOCK, false);
    }
    expect(taken(ram).filter((call) => call.startsWith("writeAt")).length).toBeGreaterThan(0);
    for (let block = 0; block < 20; block++) {
      expect((await read(backend, 1, block * BLOCK + 9))[0]).toBe(200 + block);
    }
    await backend.flush();
    for (let block = 0; block < 20; block++) {
      expect(ram.read(block * BLOCK, 1)[0]).toBe(200 + block);
    }
  });

  test("block status calls dirty blocks data; the rest is the plugin's", async () => {
    const { backend } = await cache([], ramPlugin());
    await backend.writeAt(Uint8Array.of(0), BLOCK, false);
    const list = new Extents(0, backend.caps.size);
    await backend.extents(BLOCK * 3, 0, false, list);
    expect(list.types.map((type, i) => [Number(list.starts[i]), Number(list.ends[i]), type]))
      .toEqual([
        [0, BLOCK, EXTENT.HOLE | EXTENT.ZERO],
        [BLOCK, BLOCK * 2, EXTENT.DATA],
        [BLOCK * 2, BLOCK * 3, EXTENT.HOLE | EXTENT.ZERO],
      ]);
  });

  test("a trim lets go of the blocks it covers and clean ones it touches, then goes below", async () => {
    const { backend, ram } = await cache(["cache-on-read=true"]);
    await read(backend, BLOCK * 3, 0); // blocks 0-2 kept clean
    await backend.writeAt(Uint8Array.of(9), BLOCK * 2 + 5, false); // block 2 dirty
    taken(ram);
    await backend.trim(BLOCK * 2, BLOCK / 2, false); // half of 0, all of 1, half of 2
    expect(taken(ram)).toEqual([`trim ${BLOCK / 2} ${BLOCK * 2}`]);
    await read(backend, BLOCK * 3, 0);
    // Blocks 0 (clean, in part) and 1 (whole) were let go; dirty block 2 stays.
    expect(taken(ram)).toEqual([`readAt 0 ${BLOCK * 2}`]);
    expect((await read(backend, 1, BLOCK * 2 + 5))[0]).toBe(9);
  });
});

describe("cache filter: parameters", () => {
  test("bad values are refused with nbdkit's messages", async () => {
    for (
      const [params, message] of [
        [["cache=fast"], "invalid cache parameter, should be writeback|writethrough|unsafe"],
        [
          ["cache-min-block-size=12k"],
          "cache-min-block-size is not a power of 2, or is too small or too large",
        ],
        [["cache-max-size=1000"], "cache-max-size is too small"],
        [["cache-high-threshold=0"], "cache-high-threshold must be greater than zero"],
        [["cache-low-threshold=-1"], "cache-low-threshold: negative numbers are not allowed"],
        [
          ["cache-max-size=1M", "cache-low-threshold=95"],
          "cache-low-threshold must be less than cache-high-threshold",
        ],
        [["cache-on-read=maybe"], "could not decipher boolean (maybe)"],
      ] as const
    ) {
      expect(await failure(() => cache([...params]))).toMatchObject({
        message: `cache: error: ${message}`,
      });
    }
    // Thresholds are only checked against each other with a maximum size (nbdkit).
    await cache(["cache-low-threshold=95"]);
  });
});
