import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { createBlocksizeFilter } from "../../src/filters/blocksize.ts";
import { failure, filtered } from "../helpers/filtered.ts";
import { ramPlugin } from "../helpers/ram-plugin.ts";
import { sameBytes } from "../../src/filters/same-bytes.ts";

describe("blocksize filter: requests that fit", () => {
  test("whole blocks pass straight down, and a synchronous plugin's answer makes no promise", async () => {
    const { backend, ram } = await filtered(createBlocksizeFilter(), ["minblock=512"]);
    expect(backend.readAt(new Uint8Array(1024), 512)).toBeUndefined();
    expect(backend.writeAt(new Uint8Array(512).fill(7), 0, false)).toBeUndefined();
    expect(backend.trim(4096, 4096, false)).toBeUndefined();
    expect(ram.calls.map(({ op, offset, count }) => [op, offset, count])).toEqual([
      ["readAt", 512, 1024],
      ["writeAt", 0, 512],
      ["trim", 4096, 4096],
    ]);
  });

  test("a fast zero that would need more than one request fails with ENOTSUP at once", async () => {
    const { backend, ram } = await filtered(createBlocksizeFilter(), ["minblock=512"]);
    expect(await failure(() => backend.zero(512, 100, false, false, true))).toMatchObject({
      errno: "ENOTSUP",
    });
    expect(ram.calls).toEqual([]);
  });
});

describe("blocksize filter: the lock", () => {
  const slow = () => ramPlugin({ delay: () => 5 });

  test("an aligned write waits for a read-modify-write of its block started before it", async () => {
    const { backend, ram } = await filtered(createBlocksizeFilter(), ["minblock=512"], slow());
    await Promise.all([
      backend.writeAt(Uint8Array.of(0xaa), 1, false),
      backend.writeAt(new Uint8Array(512).fill(0xbb), 0, false),
    ]);
    expect(ram.read(0, 512)).toEqual(new Uint8Array(512).fill(0xbb));
    expect(ram.calls.map(({ op, count }) => `${op} ${count}`)).toEqual([
      "readAt 512",
      "writeAt 512",
      "writeAt 512",
    ]);
  });

  test("a read-modify-write waits for an aligned write of its block started before it", async () => {
    const { backend, ram } = await filtered(createBlocksizeFilter(), ["minblock=512"], slow());
    await Promise.all([
      backend.writeAt(new Uint8Array(512).fill(0xbb), 0, false),
      backend.writeAt(Uint8Array.of(0xaa), 1, false),
    ]);
    const expected = new Uint8Array(512).fill(0xbb);
    expected[1] = 0xaa;
    expect(ram.read(0, 512)).toEqual(expected);
  });
});

/**
 * Property: through the filter, random reads, writes, zeroes and trims across block boundaries
 * leave the disk as a plain array model says (trim discards only the whole blocks inside, which
 * the RAM plugin zeroes), and the plugin is only ever asked for whole blocks within the limits.
 *
 * Seed and runs: 0x5b10c512, 60 runs of up to 30 requests on a 16 KiB disk.
 */
describe("blocksize filter: against a model", () => {
  const SIZE = 16 * 1024;
  const request = fc.record({
    op: fc.constantFrom("read", "write", "zero", "trim"),
    offset: fc.integer({ min: 0, max: SIZE - 1 }),
    length: fc.integer({ min: 1, max: 6000 }),
    fill: fc.integer({ min: 1, max: 255 }),
  });

  test("random requests leave the disk as the model says, the plugin seeing whole blocks", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(1, 512, 4096),
        fc.integer({ min: 1, max: 4 }),
        fc.array(request, { maxLength: 30 }),
        async (minblock, pieces, requests) => {
          const maxdata = minblock * Math.max(8, 2048 / minblock) * pieces;
          const maxlen = maxdata * 2;
          const ram = ramPlugin({ size: SIZE });
          const { backend } = await filtered(
            createBlocksizeFilter(),
            [`minblock=${minblock}`, `maxdata=${maxdata}`, `maxlen=${maxlen}`],
            ram,
          );
          const model = new Uint8Array(SIZE);
          for (const { op, offset, length: wanted, fill } of requests) {
            const length = Math.min(wanted, SIZE - offset);
            if (op === "read") {
              const buf = new Uint8Array(length);
              await backend.readAt(buf, offset);
              expect(sameBytes(buf, model.subarray(offset, offset + length))).toBe(true);
            } else if (op === "write") {
              await backend.writeAt(new Uint8Array(length).fill(fill), offset, false);
              model.fill(fill, offset, offset + length);
            } else if (op === "zero") {
              await backend.zero(length, offset, true, false, false);
              model.fill(0, offset, offset + length);
            } else {
              await backend.trim(length, offset, false);
              const start = Math.ceil(offset / minblock) * minblock;
              const end = Math.floor((offset + length) / minblock) * minblock;
              if (end > start) model.fill(0, start, end);
            }
          }
          expect(sameBytes(ram.read(0, SIZE), model)).toBe(true);
          for (const call of ram.calls) {
            if (call.count === undefined) continue;
            expect(Number(call.offset) % minblock).toBe(0);
            expect(call.count % minblock).toBe(0);
            const limit = call.op === "readAt" || call.op === "writeAt" ? maxdata : maxlen;
            expect(call.count).toBeLessThanOrEqual(limit);
          }
        },
      ),
      { seed: 0x5b10c512, numRuns: 60 },
    );
  });
});
