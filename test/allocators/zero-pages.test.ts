// ZeroPages keeps sorted, disjoint runs of page numbers: adding joins runs that touch or overlap,
// deleting cuts them, and a random sequence of both agrees with a plain set of pages.

import { describe, expect, test } from "vitest";
import fc from "fast-check";
import { ZeroPages } from "../../src/allocators/zero-pages.ts";

const runs = (pages: ZeroPages) => pages.starts.map((start, i) => [start, pages.ends[i]]);

describe("ZeroPages", () => {
  test("adding joins neighbouring and overlapping runs; deleting cuts them", () => {
    const pages = new ZeroPages();
    expect(pages.empty).toBe(true);
    pages.add(10, 20);
    pages.add(30, 40);
    pages.add(20, 25); // touches the first run
    expect(runs(pages)).toEqual([[10, 25], [30, 40]]);
    pages.add(24, 31); // bridges both
    expect(runs(pages)).toEqual([[10, 40]]);
    pages.delete(15, 16);
    pages.delete(39, 100);
    expect(runs(pages)).toEqual([[10, 15], [16, 39]]);
    pages.delete(0, 2 ** 48);
    expect(pages.empty).toBe(true);
  });

  test("indexFrom finds the run holding a page, or the next one", () => {
    const pages = new ZeroPages();
    pages.add(10, 20);
    pages.add(30, 40);
    expect([5, 10, 19, 20, 35, 40].map((page) => pages.indexFrom(page))).toEqual([
      0,
      0,
      0,
      1,
      1,
      2,
    ]);
  });

  test("random adds and deletes agree with a set of pages", () => {
    const range = fc.tuple(fc.nat(60), fc.nat(12)).map(([first, n]) => [first, first + n]);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), range), { maxLength: 40 }), (ops) => {
        const pages = new ZeroPages();
        const model = new Set<number>();
        for (const [add, [first, end]] of ops) {
          if (add) pages.add(first, end);
          else pages.delete(first, end);
          for (let page = first; page < end; page++) {
            if (add) model.add(page);
            else model.delete(page);
          }
        }
        const listed: number[] = [];
        for (const [start, end] of runs(pages)) {
          for (let page = start; page < end; page++) listed.push(page);
        }
        expect(listed).toEqual([...model].sort((a, b) => a - b));
        for (let i = 1; i < pages.starts.length; i++) {
          expect(pages.starts[i], "runs neither touch nor overlap").toBeGreaterThan(
            pages.ends[i - 1],
          );
        }
      }),
      { numRuns: 300 },
    );
  });
});
