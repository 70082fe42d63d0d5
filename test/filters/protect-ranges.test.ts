import { describe, expect, test } from "vitest";
import {
  mergeRanges,
  parseProtectRange,
  ProtectedRanges,
} from "../../src/filters/protect-ranges.ts";

const LAST = 2n ** 63n - 1n;

describe("protect= ranges", () => {
  test("START-END, open ends, and ~ for the bytes outside", () => {
    expect(parseProtectRange("100-199")).toEqual([
      { start: 100n, end: 199n, description: "100-199" },
    ]);
    expect(parseProtectRange("-0x1ff")).toEqual([{ start: 0n, end: 511n, description: "-0x1ff" }]);
    expect(parseProtectRange("4096-")).toEqual([{ start: 4096n, end: LAST, description: "4096-" }]);
    expect(parseProtectRange("~100-199")).toEqual([
      { start: 0n, end: 99n, description: "~100-199" },
      { start: 200n, end: LAST, description: "~100-199" },
    ]);
    expect(parseProtectRange("~0-")).toEqual([]);
  });

  test("bad ranges get nbdkit's messages", () => {
    expect(() => parseProtectRange("5")).toThrow("cannot parse range, missing '-': 5");
    expect(() => parseProtectRange("5-3")).toThrow("invalid range, end < start: 5-3");
    expect(() => parseProtectRange("x-3")).toThrow(
      "range: empty string where we expected a number",
    );
    expect(() => parseProtectRange("18446744073709551616-1")).toThrow(
      'range: could not parse number: "18446744073709551616": Numerical result out of range',
    );
  });

  test("overlapping and adjacent ranges merge, named after the first; a range inside another keeps the outer end", () => {
    const merged = mergeRanges([
      ...parseProtectRange("300-400"),
      ...parseProtectRange("0-100"),
      ...parseProtectRange("10-20"),
      ...parseProtectRange("101-150"),
      ...parseProtectRange("350-359"),
    ]);
    expect(merged).toEqual([
      { start: 0n, end: 150n, description: "0-100" },
      { start: 300n, end: 400n, description: "300-400" },
    ]);
  });

  test("the protected pieces of a request, exact past 2^53", () => {
    const ranges = new ProtectedRanges(mergeRanges([
      ...parseProtectRange("100-199"),
      ...parseProtectRange(`${2n ** 53n + 1n}-${2n ** 53n + 1n}`),
    ]));
    expect(ranges.touches(0, 100)).toBe(false);
    expect(ranges.touches(0, 101)).toBe(true);
    expect(ranges.touches(200, 4096)).toBe(false);
    expect(ranges.piecesOf(150, 100).map(({ skip, length }) => [skip, length])).toEqual([
      [0, 50],
    ]);
    expect(ranges.piecesOf(50, 100).map(({ skip, length }) => [skip, length])).toEqual([
      [50, 50],
    ]);
    // 2^53 - 1 is safe; the protected byte 2^53 + 1 is not, and must not look like it.
    expect(ranges.touches(2 ** 53 - 512, 512)).toBe(false);
    expect(ranges.touches(2n ** 53n, 1)).toBe(false);
    expect(ranges.touches(2n ** 53n, 2)).toBe(true);
    expect(ranges.piecesOf(2n ** 53n, 4).map(({ skip, length }) => [skip, length])).toEqual([
      [1, 1],
    ]);
  });
});
