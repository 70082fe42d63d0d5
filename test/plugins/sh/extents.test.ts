// The extent lines a script prints (src/plugins/sh/extents.ts), as nbdkit's parse_extents
// reads them.

import { describe, expect, test } from "vitest";
import { NbdError } from "../../../src/api/errors.ts";
import { parseExtents } from "../../../src/plugins/sh/extents.ts";

describe("parseExtents", () => {
  test("sizes, numbers, words and nothing for data; spaces and tabs", () => {
    expect(parseExtents("0 1M\n1M\t2M 3\n  3M   1M hole,zero\n4M 4k zero\n4100k 1 hole")).toEqual([
      { offset: 0, length: 1048576, type: 0 },
      { offset: 1048576, length: 2097152, type: 3 },
      { offset: 3145728, length: 1048576, type: 3 },
      { offset: 4194304, length: 4096, type: 2 },
      { offset: 4198400, length: 1, type: 1 },
    ]);
  });

  test("a type that starts with digits is that number; unknown words are data", () => {
    expect(parseExtents("0 1 2abc\n1 1 sparse\n2 1 -1\n").map((e) => e.type)).toEqual([
      2,
      0,
      0xffffffff,
    ]);
  });

  test("offsets past 2^53 stay exact", () => {
    expect(parseExtents("9007199254740993 1\n")[0].offset).toBe(9007199254740993n);
  });

  test("no output is no extents", () => {
    expect(parseExtents("")).toEqual([]);
  });

  test.each(["\n", "0\n", "0 1M\n\n", "lots 1M\n", "0 -1\n"])("%j is an EIO error", (text) => {
    expect(() => parseExtents(text)).toThrow(NbdError);
  });
});
