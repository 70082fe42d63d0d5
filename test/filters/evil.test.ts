/**
 * The evil filter's pieces (src/filters/evil.ts, evil-corrupt.ts): nbdkit_parse_probability's
 * forms, and corruption that depends only on the generator's seed and the place in the block.
 */

import { describe, expect, test } from "vitest";
import { Xoshiro256 } from "../../src/api/xoshiro.ts";
import { corrupt, nextPowerOf2 } from "../../src/filters/evil-corrupt.ts";
import { parseProbability } from "../../src/filters/evil.ts";

describe("parseProbability", () => {
  test("N, N%, N:M and N/M; 0/0 is 0; N/0, negatives and words are refused", () => {
    expect(parseProbability("p", "0.25")).toBe(0.25);
    expect(parseProbability("p", "10%")).toBe(0.1);
    expect(parseProbability("p", "1:4")).toBe(0.25);
    expect(parseProbability("p", "1/8")).toBe(0.125);
    expect(parseProbability("p", "0/0")).toBe(0);
    expect(parseProbability("p", "1e-8")).toBe(1e-8);
    for (const bad of ["1/0", "-0.1", "x", "1%%", ""]) {
      expect(() => parseProbability("p", bad)).toThrow(
        `p: could not parse '${bad}' as a probability`,
      );
    }
  });
});

describe("corrupt", () => {
  const odds = { probability: 1e-2, stuck: 1 };

  test("a buffer inside a block gets the block's bits at its own place", () => {
    const whole = new Uint8Array(4096);
    corrupt(whole, 0, new Xoshiro256(7), "flip", odds);
    const tail = new Uint8Array(1024);
    corrupt(tail, 3072, new Xoshiro256(7), "flip", odds);
    expect(tail).toEqual(whole.subarray(3072));
    expect(whole.some((byte) => byte !== 0)).toBe(true);
  });

  test("stuck bits with stuck probability 0 change nothing", () => {
    const buf = new Uint8Array(4096).fill(0x5a);
    corrupt(buf, 0, new Xoshiro256(7), "stuck", { probability: 1e-2, stuck: 0 });
    expect(buf.every((byte) => byte === 0x5a)).toBe(true);
  });

  test("block sizes are powers of two", () => {
    expect([0, 1, 2, 3, 1000, 1024, 1025].map(nextPowerOf2)).toEqual([
      1,
      1,
      2,
      4,
      1024,
      1024,
      2048,
    ]);
  });
});
