import { execFileSync } from "node:child_process";
import { describe, expect, test } from "vitest";
import {
  checkSize,
  crc32,
  decodeIndex,
  decodeStreamFooter,
  decodeStreamHeader,
  singleBlockStream,
} from "../../src/filters/xz-format.ts";
import { BlockCache } from "../../src/filters/xz-cache.ts";
import { findProgram } from "../helpers/servers.ts";

describe("xz format", () => {
  test("crc32 is the IEEE CRC xz uses", () => {
    expect(crc32(new TextEncoder().encode("123456789"))).toBe(0xcbf43926);
  });

  test("check sizes follow the check type", () => {
    expect([0, 1, 4, 10, 13].map(checkSize)).toEqual([0, 4, 8, 32, 64]);
  });

  test("a single-block stream carries a header, an index and a footer that agree", () => {
    const block = new Uint8Array(36).fill(7);
    const record = { unpaddedSize: 35, uncompressedSize: 300 }; // a VLI of two bytes
    const stream = singleBlockStream(4, block, record);
    expect(decodeStreamHeader(stream)).toBe(4);
    const footer = decodeStreamFooter(stream.subarray(stream.length - 12));
    // Five bytes of records padded to eight, and a CRC32.
    expect(footer).toEqual({ check: 4, indexSize: 12 });
    const index = stream.subarray(12 + 36, stream.length - 12);
    expect(decodeIndex(index)).toEqual([record]);
  });

  test("damage is reported as a reason, not thrown", () => {
    const stream = singleBlockStream(1, new Uint8Array(8), {
      unpaddedSize: 8,
      uncompressedSize: 1,
    });
    const footer = stream.slice(stream.length - 12);
    footer[5] ^= 1;
    expect(decodeStreamFooter(footer)).toBe("bad CRC32");
    const index = stream.slice(20, stream.length - 12);
    index[1] = 0x80; // a record count cut short
    expect(typeof decodeIndex(index)).toBe("string");
    expect(decodeStreamHeader(new Uint8Array(12))).toBe("bad magic");
  });

  test.skipIf(!findProgram("xz"))("xz's own footer and index decode", () => {
    const xz = execFileSync("xz", ["-c", "--block-size=1000"], {
      input: new Uint8Array(2500).fill(1),
    });
    const bytes = new Uint8Array(xz);
    const footer = decodeStreamFooter(bytes.subarray(bytes.length - 12));
    if (typeof footer === "string") throw new Error(footer);
    const index = bytes.subarray(bytes.length - 12 - footer.indexSize, bytes.length - 12);
    const records = decodeIndex(index);
    if (typeof records === "string") throw new Error(records);
    expect(records.map((record) => record.uncompressedSize)).toEqual([1000, 1000, 500]);
  });
});

describe("xz block cache", () => {
  test("keeps the most recently used blocks, and lends an evicted block's memory", () => {
    const cache = new BlockCache(2);
    const a = { start: 0, size: 10, data: new Uint8Array(10) };
    cache.put(a);
    cache.put({ start: 10, size: 10, data: new Uint8Array(10) });
    expect(cache.find(5)).toBe(a); // a is now the most recent
    const room = cache.room(8); // evicts the block at 10, whose memory fits
    expect(room.length).toBe(10);
    expect(cache.find(15)).toBeUndefined();
    expect(cache.find(0)).toBe(a);
    expect([cache.hits, cache.misses]).toEqual([2, 1]);
  });
});
