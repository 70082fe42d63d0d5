// gather (the Deno and Bun adapters' write batching): small parts are joined, into the staging
// buffer when one is offered, large parts go as they are, and the bytes keep their order.

import { describe, expect, test } from "vitest";
import { gather, STAGING_SIZE } from "../../src/runtime/gather.ts";

const part = (length: number, value: number) => new Uint8Array(length).fill(value);

function joinedBytes(queue: Uint8Array[]): number[] {
  return queue.flatMap((segment) => [...segment]);
}

describe("gather", () => {
  test("small parts are joined into one array, large ones are queued as they are", () => {
    const big = part(100_000, 9);
    const parts = [part(16, 1), part(4112, 2), part(16, 3), big, part(16, 4)];
    const queue: Uint8Array[] = [];
    expect(gather(parts, queue)).toBe(16 + 4112 + 16 + 100_000 + 16);
    expect(queue.map((segment) => segment.length)).toEqual([16 + 4112 + 16, 100_000, 16]);
    expect(queue[1]).toBe(big); // no copy
    expect(joinedBytes(queue)).toEqual(joinedBytes(parts));
  });

  test("the first joined run goes into the staging buffer, a later one into a new array", () => {
    const staging = new Uint8Array(STAGING_SIZE);
    const parts = [
      ...Array.from({ length: 40 }, (_, i) => part(4112, i + 1)), // 160 KiB of small replies
      part(20_000, 99),
      part(16, 100),
      part(16, 101),
    ];
    const queue: Uint8Array[] = [];
    gather(parts, queue, staging);
    expect(queue[0].buffer).toBe(staging.buffer);
    expect(queue[0].length).toBe(40 * 4112);
    expect(queue[2].buffer).not.toBe(staging.buffer);
    expect(queue.map((segment) => segment.length)).toEqual([40 * 4112, 20_000, 32]);
    expect(joinedBytes(queue)).toEqual(joinedBytes(parts));
  });

  test("without staging a joined array stays within 64 KiB", () => {
    const parts = Array.from({ length: 40 }, (_, i) => part(4112, i + 1));
    const queue: Uint8Array[] = [];
    gather(parts, queue);
    expect(Math.max(...queue.map((segment) => segment.length))).toBeLessThanOrEqual(65_536);
    expect(joinedBytes(queue)).toEqual(joinedBytes(parts));
  });
});
