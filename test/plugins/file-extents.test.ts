// The file plugin's extent walk (src/plugins/file/extents.ts) over a stand-in file whose data
// ranges are listed, answering SEEK_DATA and SEEK_HOLE as Linux does.

import { describe, expect, test } from "vitest";
import { EXTENT } from "../../src/api/plugin.ts";
import { reportExtents, type SeekableFile } from "../../src/plugins/file/extents.ts";

const HOLE = EXTENT.HOLE | EXTENT.ZERO;

/** A file of `size` bytes whose data is the [start, end) ranges given, in order. */
function fileWith(size: number, data: [number, number][]): SeekableFile & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    nextData(offset) {
      calls.push(`data ${offset}`);
      if (offset >= size) return undefined;
      const range = data.find(([, end]) => end > offset);
      return range ? Math.max(range[0], offset) : undefined;
    },
    nextHole(offset) {
      calls.push(`hole ${offset}`);
      const range = data.find(([start, end]) => start <= offset && offset < end);
      return range ? range[1] : Math.min(offset, size);
    },
  };
}

function extents(file: SeekableFile, count: number, offset: number, reqOne = false) {
  const added: [number, number, number][] = [];
  reportExtents(file, count, offset, reqOne, {
    add: (at, length, type) => void added.push([Number(at), Number(length), type]),
  });
  return added;
}

describe("file plugin extents", () => {
  const file = () => fileWith(1000, [[100, 200], [500, 600]]);

  test("holes and data alternate from the offset to the end of the request", () => {
    expect(extents(file(), 1000, 0)).toEqual([
      [0, 100, HOLE],
      [100, 100, EXTENT.DATA],
      [200, 300, HOLE],
      [500, 100, EXTENT.DATA],
      [600, 400, HOLE],
    ]);
  });

  test("the final hole (ENXIO) runs to the end of the request", () => {
    expect(extents(file(), 50, 700)).toEqual([[700, 50, HOLE]]);
  });

  test("a request ending inside data reports that data to where it ends", () => {
    expect(extents(file(), 60, 90)).toEqual([[90, 10, HOLE], [100, 100, EXTENT.DATA]]);
  });

  test("a request starting inside a hole reports it to the next data", () => {
    expect(extents(file(), 250, 300)).toEqual([[300, 200, HOLE], [500, 100, EXTENT.DATA]]);
  });

  test("REQ_ONE stops after the first extent, asking no more than needed", () => {
    const seen = file();
    expect(extents(seen, 1000, 150, true)).toEqual([[150, 50, EXTENT.DATA]]);
    expect(seen.calls).toEqual(["data 150", "hole 150"]);
    expect(extents(file(), 1000, 0, true)).toEqual([[0, 100, HOLE]]);
  });

  test("a file with no holes is one data extent", () => {
    expect(extents(fileWith(1000, [[0, 1000]]), 1000, 0)).toEqual([[0, 1000, EXTENT.DATA]]);
  });

  test("what the file throws reaches the caller", () => {
    const broken: SeekableFile = {
      nextData: () => 0,
      nextHole: () => {
        throw Object.assign(new Error("lseek: SEEK_HOLE: Input/output error"), { code: "EIO" });
      },
    };
    expect(() => extents(broken, 10, 0)).toThrow(/Input\/output error/);
  });
});
