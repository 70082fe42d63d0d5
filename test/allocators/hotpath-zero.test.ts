// isZero (v128) must agree with its scalar twin isZeroScalar, and both with a byte loop.

import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { createHotpath } from "../../src/wasm/hotpath.ts";

const wasm = createHotpath();
const AREA = 1024;
const base = wasm.exports.scratch(AREA) >>> 0;

/** Places `bytes` at base+shift, with non-zero guards on both sides, and returns its address. */
function place(bytes: Uint8Array, shift: number): number {
  const heap = wasm.heap();
  heap.fill(0xff, base, base + AREA);
  heap.set(bytes, base + shift);
  return base + shift;
}

describe("isZero and isZeroScalar", () => {
  test("an empty range is zero", () => {
    expect(wasm.exports.isZero(place(new Uint8Array(0), 7), 0)).toBe(1);
    expect(wasm.exports.isZeroScalar(place(new Uint8Array(0), 7), 0)).toBe(1);
  });

  test("one non-zero byte is found at every position and alignment", () => {
    for (const length of [1, 15, 16, 17, 63, 64, 65, 130, 200]) {
      for (let shift = 0; shift < 16; shift += 5) {
        const ptr = place(new Uint8Array(length), shift);
        expect(wasm.exports.isZero(ptr, length), `zeros, length ${length}`).toBe(1);
        expect(wasm.exports.isZeroScalar(ptr, length)).toBe(1);
        for (let at = 0; at < length; at++) {
          const bytes = new Uint8Array(length);
          bytes[at] = 1 << (at % 8);
          const p = place(bytes, shift);
          expect(wasm.exports.isZero(p, length), `length ${length} byte ${at}`).toBe(0);
          expect(wasm.exports.isZeroScalar(p, length), `length ${length} byte ${at}`).toBe(0);
        }
      }
    }
  });

  test("bytes outside the range do not count", () => {
    const ptr = place(new Uint8Array(100), 3); // guards of 0xff sit right before and after
    expect(wasm.exports.isZero(ptr, 100)).toBe(1);
    expect(wasm.exports.isZero(ptr - 1, 100)).toBe(0);
    expect(wasm.exports.isZero(ptr, 101)).toBe(0);
  });

  test("the SIMD and scalar answers agree on random mostly-zero buffers", () => {
    const sparseBytes = fc.array(fc.tuple(fc.nat(499), fc.integer({ min: 1, max: 255 })), {
      maxLength: 3,
    });
    fc.assert(
      fc.property(fc.nat(500), fc.nat(31), sparseBytes, (length, shift, marks) => {
        const bytes = new Uint8Array(length);
        for (const [at, value] of marks) if (at < length) bytes[at] = value;
        const ptr = place(bytes, shift);
        const truth = bytes.every((b) => b === 0) ? 1 : 0;
        expect(wasm.exports.isZero(ptr, length)).toBe(truth);
        expect(wasm.exports.isZeroScalar(ptr, length)).toBe(truth);
      }),
      { numRuns: 2000 },
    );
  });
});
