import { describe, expect, test } from "vitest";
import { isAllZero } from "../../src/api/zero.ts";

describe("isAllZero", () => {
  test("an empty buffer is all zero", () => {
    expect(isAllZero(new Uint8Array(0))).toBe(true);
  });

  test("zero buffers at every alignment and length up to 70 bytes are all zero", () => {
    const backing = new Uint8Array(96);
    for (let start = 0; start < 8; start++) {
      for (let length = 0; length <= 70; length++) {
        expect(isAllZero(backing.subarray(start, start + length))).toBe(true);
      }
    }
  });

  test("one non-zero byte anywhere is found, at every alignment and length", () => {
    const backing = new Uint8Array(96);
    for (let start = 0; start < 8; start++) {
      for (let length = 1; length <= 70; length++) {
        for (let at = 0; at < length; at++) {
          backing[start + at] = 0x80;
          const found = !isAllZero(backing.subarray(start, start + length));
          backing[start + at] = 0;
          if (!found) throw new Error(`missed byte ${at} of ${length} at alignment ${start}`);
        }
      }
    }
  });

  test("non-zero bytes just outside the view are not looked at", () => {
    const backing = new Uint8Array(64).fill(0xff);
    for (let start = 1; start < 8; start++) {
      backing.fill(0, start, start + 41);
      expect(isAllZero(backing.subarray(start, start + 41))).toBe(true);
      backing.fill(0xff);
    }
  });

  test("a view whose buffer starts at an odd byte offset is scanned correctly", () => {
    const buffer = new ArrayBuffer(4099);
    const view = new Uint8Array(buffer, 3, 4096);
    expect(isAllZero(view)).toBe(true);
    view[4095] = 1;
    expect(isAllZero(view)).toBe(false);
    view[4095] = 0;
    view[0] = 1;
    expect(isAllZero(view)).toBe(false);
  });

  test("a large zero buffer (64 MiB) is all zero, and its last byte counts", () => {
    const big = new Uint8Array(64 * 1024 * 1024);
    expect(isAllZero(big)).toBe(true);
    big[big.length - 1] = 1;
    expect(isAllZero(big)).toBe(false);
  });
});
