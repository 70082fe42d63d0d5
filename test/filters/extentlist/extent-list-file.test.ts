import { describe, expect, test } from "vitest";
import { extentAt, parseExtentList } from "../../../src/filters/extentlist/extent-list-file.ts";

const END = 2n ** 64n - 1n;

/** The list as [offset, end, type] triples of numbers or bigints, for short expectations. */
function parsed(text: string) {
  return parseExtentList("list", text).map(({ offset, end, type }) => [offset, end, type]);
}

describe("parseExtentList", () => {
  test("lines in any order, gaps and the rest of 2^64 as hole,zero, nbdkit's sizes", () => {
    expect(parsed("1M 1M hole\n0\t512 zero,hole\n4k   4k 7\n")).toEqual([
      [0n, 512n, 3],
      [512n, 4096n, 3],
      [4096n, 8192n, 7],
      [8192n, 1048576n, 3],
      [1048576n, 2097152n, 1],
      [2097152n, END, 3],
    ]);
  });

  test("the type: a number as C's %u reads it, else the words hole and zero, else data", () => {
    const typeOf = (field: string) => parsed(`0 1 ${field}`)[0][2];
    expect([typeOf("2"), typeOf("+3"), typeOf("3junk"), typeOf("-1")]).toEqual([
      2,
      3,
      3,
      4294967295,
    ]);
    expect([typeOf("zero"), typeOf("holey"), typeOf("x,zero,hole"), typeOf("data")]).toEqual([
      2,
      1,
      3,
      0,
    ]);
    expect(parsed("0 1")[0][2]).toBe(0);
    expect(parsed("0 1 hole extra fields")[0][2]).toBe(1);
  });

  test("an empty file, zero lengths and a last line without an end are fine", () => {
    expect(parsed("")).toEqual([[0n, END, 3]]);
    expect(parsed("5 0 data\n0 4")).toEqual([[0n, 4n, 0], [4n, END, 3]]);
  });

  test("bad lines are refused as nbdkit refuses them", () => {
    expect(() => parsed("\n")).toThrow("list: cannot parse ");
    expect(() => parsed("  12   \n")).toThrow("list: cannot parse   12");
    expect(() => parsed("x 1\n")).toThrow("could not parse size string (x)");
    expect(() => parsed("0 -1\n")).toThrow("size cannot be negative (-1)");
    expect(() => parsed("0 2\n1 2\n")).toThrow("extents in the extent list are overlapping");
  });

  test("extentAt finds the extent holding an offset", () => {
    const listed = parseExtentList("list", "0 10\n20 10\n");
    expect([0n, 9n, 10n, 19n, 20n, 29n, 30n, 2n ** 63n].map((at) => extentAt(listed, at)))
      .toEqual([0, 0, 1, 1, 2, 2, 3, 3]);
  });
});
