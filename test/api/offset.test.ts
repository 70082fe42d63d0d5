import { describe, expect, test } from "vitest";
import { addOffset, bytesBefore, compareOffsets, subtractOffset } from "../../src/api/offset.ts";

const MAX = 2n ** 63n - 1n;
const SAFE = Number.MAX_SAFE_INTEGER;

describe("exact offset arithmetic up to 2^63-1", () => {
  test("numbers stay numbers while the result is safe", () => {
    expect(addOffset(4096, 512)).toBe(4608);
    expect(subtractOffset(4096, 512)).toBe(3584);
    expect(addOffset(SAFE - 1, 1)).toBe(SAFE);
  });

  test("a result past 2^53 is an exact bigint, and comes back to a number when it fits", () => {
    expect(addOffset(SAFE, 1)).toBe(2n ** 53n);
    expect(addOffset(SAFE, SAFE)).toBe(2n * BigInt(SAFE));
    expect(addOffset(2n ** 62n, 2n ** 62n - 1n)).toBe(MAX);
    expect(subtractOffset(MAX, MAX - 10n)).toBe(10);
    expect(subtractOffset(2n ** 53n + 5n, 2n ** 53n)).toBe(5);
  });

  test("compares numbers and bigints exactly, even where numbers would round", () => {
    expect(compareOffsets(2n ** 53n + 1n, 2n ** 53n)).toBe(1);
    expect(compareOffsets(SAFE, 2n ** 53n)).toBe(-1);
    expect(compareOffsets(MAX, MAX)).toBe(0);
  });

  test("bytesBefore gives the part of a request before a limit", () => {
    expect(bytesBefore(1000, 100, 1050)).toBe(50);
    expect(bytesBefore(1000, 100, 2000)).toBe(100);
    expect(bytesBefore(1000, 100, 900)).toBe(0);
    expect(bytesBefore(MAX - 100n, 512, MAX)).toBe(100);
    expect(bytesBefore(2n ** 60n, 512, 2n ** 60n + 1n)).toBe(1);
  });
});
