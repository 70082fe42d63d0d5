/** GNU ddrescue mapfiles as nbdkit's ddrescue filter reads them (src/filters/ddrescue-map.ts). */

import { expect, test } from "vitest";
import { parseMapfile } from "../../src/filters/ddrescue-map.ts";

test("the status line and comments are skipped; C integers in any base; only + ranges kept", () => {
  const text = "# comment\n0x1000 + 1\n# pos size status\n0x0 0x200 +\n01000\t512\t+\n" +
    "1024 0x400 -\nnot a line\n2048 0 +\n";
  expect(parseMapfile(text)).toEqual([
    { start: 0, end: 0x1ff },
    { start: 512, end: 1023 }, // 01000 is octal
    { start: 2048, end: 2047 }, // empty: no read fits in it
  ]);
  expect(() => parseMapfile("0 +\n0 -1 +\n")).toThrow("block length must not be negative");
});
