// GcNudge (the Bun adapter asks for a collection every so many bytes moved): it counts bytes
// either way and asks once per interval, however the bytes are split, never before.

import { describe, expect, test } from "vitest";
import { GcNudge, NUDGE_INTERVAL } from "../../src/runtime/gc-nudge.ts";

function counted(interval?: number): { nudge: GcNudge; collections: () => number } {
  let collections = 0;
  const nudge = new GcNudge(() => collections++, interval);
  return { nudge, collections: () => collections };
}

describe("GcNudge", () => {
  test("asks for no collection until an interval's worth of bytes has moved", () => {
    const { nudge, collections } = counted(1000);
    nudge.moved(600);
    nudge.moved(399);
    expect(collections()).toBe(0);
    nudge.moved(1);
    expect(collections()).toBe(1);
  });

  test("asks once per interval, and starts counting afresh after asking", () => {
    const { nudge, collections } = counted(1000);
    for (let i = 0; i < 40; i++) nudge.moved(100); // 4000 bytes in small pieces
    expect(collections()).toBe(4);
    nudge.moved(999);
    expect(collections()).toBe(4);
  });

  test("one piece larger than the interval asks once", () => {
    const { nudge, collections } = counted(1000);
    nudge.moved(5000);
    expect(collections()).toBe(1);
  });

  test("by default asks every 64 MiB", () => {
    const { nudge, collections } = counted();
    expect(NUDGE_INTERVAL).toBe(64 * 1024 * 1024);
    nudge.moved(NUDGE_INTERVAL - 1);
    expect(collections()).toBe(0);
    nudge.moved(1);
    expect(collections()).toBe(1);
  });
});
