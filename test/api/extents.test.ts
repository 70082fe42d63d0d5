import { describe, expect, test } from "vitest";
import { Extents } from "../../src/api/extents.ts";
import { EXTENT } from "../../src/api/plugin.ts";

const HOLE = EXTENT.HOLE | EXTENT.ZERO;

describe("Extents, nbdkit_extents_new for filters", () => {
  test("count and get read back the clipped, merged list, numbers where exact", () => {
    const list = new Extents(100, 1000);
    list.add(0, 200, EXTENT.DATA);
    list.add(200, 100, EXTENT.DATA);
    list.add(300, 5000, HOLE);
    expect(list.count).toBe(2);
    expect(list.get(0)).toEqual({ offset: 100, length: 200, type: EXTENT.DATA });
    expect(list.get(1)).toEqual({ offset: 300, length: 700, type: HOLE });
    expect(() => list.get(2)).toThrow("Cannot get extent 2: the list has 2");
  });

  test("offsets past 2^53 come back as bigint", () => {
    const list = new Extents(2n ** 60n, 2n ** 63n - 1n);
    list.add(2n ** 60n, 2n ** 61n, HOLE);
    expect(list.get(0)).toEqual({ offset: 2n ** 60n, length: 2n ** 61n, type: HOLE });
  });

  test("an empty range is allowed; start past end, or past 2^63-1, is ERANGE", () => {
    expect(new Extents(5, 5).count).toBe(0);
    expect(() => new Extents(6, 5)).toThrow(/expected 0 ≤ start ≤ end ≤ 2\^63-1/);
    expect(() => new Extents(0, 2n ** 63n)).toThrow(/2\^63-1/);
  });
});
