/**
 * Moving a read's failure back into the asker's offsets: an NbdError naming its first bad byte
 * below names the same byte as the layer above counts it, whether the read failed at once or
 * later; and extents read below come back moved.
 */

import { describe, expect, test } from "vitest";
import { NbdError } from "../../src/api/errors.ts";
import { Extents } from "../../src/api/extents.ts";
import type { NextHandle } from "../../src/api/filter.ts";
import { extentsMoved, moveErrorOffset, readMoved } from "../../src/api/filter-offsets.ts";
import { EXTENT, type ExtentSink, type Offset } from "../../src/api/plugin.ts";

/** A layer below whose reads fail naming byte `bad`, synchronously or not. */
function failingAt(bad: Offset, async: boolean): NextHandle {
  const fail = () => {
    throw new NbdError("EIO", "bad sector", bad);
  };
  const later = () => Promise.resolve().then(fail);
  return { readAt: async ? later : fail } as unknown as NextHandle;
}

describe("moveErrorOffset and readMoved", () => {
  test("an NbdError's bad byte is moved by the request's shift; other errors pass as they are", () => {
    const moved = moveErrorOffset(new NbdError("EIO", "bad", 5000), 4096, 0) as NbdError;
    expect([moved.errno, moved.message, moved.offset]).toEqual(["EIO", "bad", 904]);
    const plain = new Error("boom");
    expect(moveErrorOffset(plain, 4096, 0)).toBe(plain);
    const noOffset = new NbdError("EIO");
    expect(moveErrorOffset(noOffset, 4096, 0)).toBe(noOffset);
  });

  test("offsets past 2^53 move exactly", () => {
    const at = 2n ** 62n;
    const moved = moveErrorOffset(new NbdError("EIO", "bad", at + 7n), at, 100) as NbdError;
    expect(moved.offset).toBe(107);
  });

  test("a read failing at once or later names the byte in the asker's offsets", async () => {
    let thrown: unknown;
    try {
      readMoved(failingAt(4100, false), new Uint8Array(8), 4, 4096);
    } catch (error) {
      thrown = error;
    }
    expect((thrown as NbdError).offset).toBe(8);
    await expect(readMoved(failingAt(4100, true), new Uint8Array(8), 4, 4096)).rejects
      .toMatchObject({ errno: "EIO", offset: 8 });
  });

  test("a read answered synchronously gives its answer back, no promise made", () => {
    const next = { readAt: (buf: Uint8Array) => void buf.fill(1) } as unknown as NextHandle;
    const buf = new Uint8Array(4);
    expect(readMoved(next, buf, 0, 4096)).toBeUndefined();
    expect([...buf]).toEqual([1, 1, 1, 1]);
  });
});

describe("extentsMoved", () => {
  test("extents below are clipped at the window's end and moved to the asker's offsets", async () => {
    const next = {
      extents(_count: number, _offset: Offset, _flags: number, sink: ExtentSink) {
        sink.add(0, 5000, EXTENT.DATA); // starts before the request: trimmed
        sink.add(5000, 100000, EXTENT.HOLE);
      },
    } as unknown as NextHandle;
    const out = new Extents(0, 1 << 20);
    await extentsMoved(next, 2000, 0, 4096, 8192, 0, out);
    expect([out.get(0), out.get(1)]).toEqual([
      { offset: 0, length: 904, type: EXTENT.DATA },
      { offset: 904, length: 3192, type: EXTENT.HOLE }, // up to the window's end, 8192 below
    ]);
    expect(out.count).toBe(2);
  });
});
