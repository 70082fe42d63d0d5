// The sparse-random map (src/plugins/lib/sparse-map.ts): drawn as a BigInt transcription of
// nbdkit's sparse_random_get_ready draws it, with its special cases, and read by runs.

import { describe, expect, test } from "vitest";
import { BLOCK_SIZE, SparseMap } from "../../src/plugins/lib/sparse-map.ts";
import { xrandom, xsrandom } from "./random-reference.ts";

/** nbdkit's loop, with exact 64-bit draws converted to doubles for the comparison. */
function referenceMap(size: number, seed: number, percent: number, runLength: number): boolean[] {
  const blocks = Math.ceil(size / BLOCK_SIZE);
  const pDataToHole = 1 / (runLength / BLOCK_SIZE);
  const pHoleToData = (percent / 100) * pDataToHole / (1 - percent / 100);
  const state = xsrandom(BigInt(seed));
  const map: boolean[] = [];
  let data = false;
  for (let block = 0; block < blocks; block++) {
    map.push(data);
    if (Number(xrandom(state)) <= (data ? pDataToHole : pHoleToData) * 2 ** 64) data = !data;
  }
  return map;
}

function blocksOf(map: SparseMap): boolean[] {
  return Array.from({ length: map.blocks }, (_, block) => map.isData(block));
}

describe("SparseMap", () => {
  test.each([
    [16 * 1024 * 1024, 1234, 50, 65536],
    [16 * 1024 * 1024 + 100, 1, 10, 16384],
    [64 * 1024 * 1024, 0xffffffff, 90, 4096],
  ])(
    "a disk of %i bytes, seed %i, %i %% data, runs of %i: nbdkit's map",
    (size, seed, percent, runLength) => {
      const map = new SparseMap(size, { seed, percent, runLength });
      expect(map.blocks).toBe(Math.ceil(size / BLOCK_SIZE));
      expect(blocksOf(map)).toEqual(referenceMap(size, seed, percent, runLength));
    },
  );

  test("0 % is all holes and 100 % all data, drawing nothing", () => {
    const empty = new SparseMap(1_000_000, { seed: 1, percent: 0, runLength: 4096 });
    const full = new SparseMap(1_000_000, { seed: 1, percent: 100, runLength: 4096 });
    expect(blocksOf(empty).every((data) => !data)).toBe(true);
    expect(blocksOf(full).every((data) => data)).toBe(true);
  });

  test("NaN percent draws no data, as nbdkit's comparison with NaN never flips", () => {
    const map = new SparseMap(1_000_000, { seed: 1, percent: NaN, runLength: 4096 });
    expect(blocksOf(map).some((data) => data)).toBe(false);
  });

  test("the first block is always a hole: the walk starts in the hole state", () => {
    for (let seed = 0; seed < 20; seed++) {
      expect(new SparseMap(65536, { seed, percent: 99, runLength: 4096 }).isData(0)).toBe(false);
    }
  });

  test("runEnd finds where each run ends, and stops at the limit", () => {
    const map = new SparseMap(8 * 1024 * 1024, { seed: 77, percent: 50, runLength: 32768 });
    const blocks = blocksOf(map);
    for (let block = 0; block < blocks.length; block += 3) {
      let end = block + 1;
      while (end < blocks.length && blocks[end] === blocks[block]) end++;
      expect(map.runEnd(block, blocks.length)).toBe(end);
      expect(map.runEnd(block, block + 2)).toBe(Math.min(end, block + 2));
    }
  });
});
