/**
 * The stats filter's report text (src/filters/stats-format.ts): numbers as C's printf prints
 * them, and nbdkit's breakdown of request sizes and alignments.
 */

import { describe, expect, test } from "vitest";
import { fixed, newStat, report } from "../../src/filters/stats-format.ts";

describe("fixed, C's %.Nf", () => {
  test("rounds the exact binary value, halves to even, where toFixed rounds them up", () => {
    // Expected values are what C's (and Python's) "%.Nf" give.
    expect(fixed(0.125, 2)).toBe("0.12");
    expect(fixed(1.125, 2)).toBe("1.12");
    expect(fixed(1.5, 0)).toBe("2");
    expect(fixed(2.5, 0)).toBe("2");
    expect(fixed(1 / 3, 6)).toBe("0.333333");
    expect(fixed(99.95, 1)).toBe("100.0"); // 99.95 is a little above .95 in binary
    expect(fixed(1e-7, 2)).toBe("0.00");
    expect(fixed(0, 6)).toBe("0.000000");
    expect(fixed(81, 2)).toBe("81.00");
  });
});

describe("report", () => {
  test("a size breakdown stops at the threshold; other sizes show every request's bytes, as nbdkit's", () => {
    const stats = ["read", "write", "trim", "zero", "extents", "cache", "flush"].map(newStat);
    const read = stats[0];
    read.ops = 3;
    read.bytes = 4096 + 4096 + 512;
    read.count.set(12, new Map([[12, 1], [-1, 1]]));
    read.size.set(12, 8192);
    read.count.set(9, new Map([[9, 1]]));
    read.size.set(9, 512);
    expect(report(stats, 1_000_000, 0.5)).toBe(
      "total: 3 ops, 1.000000 s, 8.50 KiB, 8.50 KiB/s\n" +
        "read: 3 ops, 0.000000 s, 8.50 KiB, (n/a)/s op, 8.50 KiB/s total\n" +
        "  Request size and alignment breakdown:\n" +
        "    12 bits: 66.7% (2 reqs, 8.00 KiB total)\n" +
        "         12 bit aligned: 100.0% (2)\n" +
        "    other sizes: 33.3% (1 reqs, 8.50 KiB total)\n" +
        "\n",
    );
  });
});
