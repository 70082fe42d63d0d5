// The xoshiro256** generator in 32-bit halves (src/plugins/lib/xoshiro.ts) against a BigInt
// transcription of nbdkit's random.h: every output, for seeds small, large and past 2^53.

import { describe, expect, test } from "vitest";
import { Xoshiro256 } from "../../src/api/xoshiro.ts";
import { xrandom, xsrandom } from "../plugins/random-reference.ts";

const SEEDS: (number | bigint)[] = [
  0,
  1,
  42,
  0xffffffff,
  2 ** 32,
  2 ** 40 + 3,
  Number.MAX_SAFE_INTEGER,
  2n ** 63n + 12345n,
  2n ** 64n - 1n,
];

describe("Xoshiro256", () => {
  test.each(SEEDS)("seeded with %s, it gives random.h's outputs, exactly", (seed) => {
    const fast = new Xoshiro256(seed);
    const reference = xsrandom(BigInt(seed));
    for (let step = 0; step < 2000; step++) {
      const expected = xrandom(reference);
      fast.next();
      expect((BigInt(fast.outHi) << 32n) | BigInt(fast.outLo)).toBe(expected);
    }
  });

  test("a seed past 2^64 wraps, as C's uint64_t addition does", () => {
    const wrapped = new Xoshiro256(2n ** 64n + 5n);
    const plain = new Xoshiro256(5);
    for (let step = 0; step < 10; step++) expect(wrapped.next()).toBe(plain.next());
  });

  test("next() returns the output rounded to a double as C's (double) cast rounds it", () => {
    const generator = new Xoshiro256(7);
    for (let step = 0; step < 2000; step++) {
      const value = generator.next();
      const exact = (BigInt(generator.outHi) << 32n) | BigInt(generator.outLo);
      // Number(bigint) rounds to nearest, ties to even: the IEEE conversion C uses
      expect(value).toBe(Number(exact));
    }
  });
});
