/**
 * The extents helpers filters call (nbdkit_extents_full, nbdkit_extents_aligned), against a
 * layer below that reports a fixed map, at most `perAnswer` extents at a time.
 */

import { describe, expect, test } from "vitest";
import { Extents } from "../../src/api/extents.ts";
import type { NextHandle } from "../../src/api/filter.ts";
import { extentsAligned, extentsFull } from "../../src/api/filter-extents.ts";
import { EXTENT, type ExtentSink, FLAG, type Offset } from "../../src/api/plugin.ts";

const DATA = EXTENT.DATA;
const HOLE = EXTENT.HOLE | EXTENT.ZERO;
const ZERO = EXTENT.ZERO;

/** [length, type] runs from offset 0. */
type Run = [number, number];

function below(runs: Run[], perAnswer = Infinity) {
  const calls: [number, Offset, number][] = [];
  const size = runs.reduce((total, [length]) => total + length, 0);
  const next = {
    getSize: () => size,
    extents(count: number, offset: Offset, flags: number, sink: ExtentSink) {
      calls.push([count, offset, flags]);
      let at = 0;
      let given = 0;
      for (const [length, type] of runs) {
        if (at + length > Number(offset) && given < perAnswer) {
          sink.add(at, length, type);
          given++;
        }
        at += length;
      }
    },
  } as unknown as NextHandle;
  return { next, calls };
}

function rows(list: { starts: bigint[]; ends: bigint[]; types: number[] }) {
  return list.types.map((type, i) => [Number(list.starts[i]), Number(list.ends[i]), type]);
}

describe("extentsFull", () => {
  test("asks again from where each answer stopped, without REQ_ONE, until the range is covered", async () => {
    const { next, calls } = below([[100, DATA], [200, HOLE], [300, DATA]], 1);
    const full = await extentsFull(next, 550, 50, FLAG.REQ_ONE);
    expect(rows(full)).toEqual([[50, 100, DATA], [100, 300, HOLE], [300, 600, DATA]]);
    expect(calls).toEqual([[550, 50, 0], [500, 100, 0], [300, 300, 0]]);
  });

  test("a layer below that reports nothing is an error, not a loop", async () => {
    const { next } = below([[100, DATA]], 0);
    await expect(extentsFull(next, 100, 0, 0)).rejects.toThrow("reported nothing at 0");
  });
});

describe("extentsAligned, as nbdkit_extents_aligned", () => {
  async function aligned(runs: Run[], count: number, offset: number, align: number, per?: number) {
    const { next, calls } = below(runs, per);
    const out = new Extents(offset, 1 << 20);
    await extentsAligned(next, count, offset, 0, align, out);
    return { out: rows(out), calls: calls.length };
  }

  test("aligned extents pass through as they are", async () => {
    const { out } = await aligned([[512, DATA], [1024, HOLE], [512, DATA]], 2048, 0, 512);
    expect(out).toEqual([[0, 512, DATA], [512, 1536, HOLE], [1536, 2048, DATA]]);
  });

  test("an unaligned extent past the first block is cut down and ends the answer", async () => {
    const { out } = await aligned([[512, DATA], [700, HOLE], [836, DATA]], 2048, 0, 512);
    expect(out).toEqual([[0, 512, DATA], [512, 1024, HOLE]]);
  });

  test("pieces of the first block merge into one block with the bits they all share", async () => {
    const runs: Run[] = [[100, HOLE], [100, ZERO], [312, HOLE], [512, DATA]];
    const { out } = await aligned(runs, 1024, 0, 512);
    expect(out).toEqual([[0, 512, ZERO]]);
  });

  test("when the first answer stops short of a block, the layer below is asked for the rest", async () => {
    const runs: Run[] = [[100, HOLE], [100, HOLE | 4], [312, HOLE], [512, DATA]];
    const { out, calls } = await aligned(runs, 1024, 0, 512, 1);
    expect(out).toEqual([[0, 512, HOLE]]);
    expect(calls).toBe(3);
  });

  test("an unaligned request is EINVAL", async () => {
    await expect(aligned([[1024, DATA]], 100, 0, 512)).rejects.toThrow("not aligned to 512");
  });
});
