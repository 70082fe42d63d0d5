// The sparse allocator lends a READ's bytes as views (Allocator.lend): the same bytes read()
// copies, runs of pages in one view, holes from one shared zero buffer, and pinned pages that
// no zero, trim or write can hand to another offset until the loan is released.

import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { createSparseAllocator } from "../../src/allocators/sparse.ts";
import { concat } from "../helpers/wire.ts";

const PAGE = 4096;
const GiB = 2 ** 30;
/** How often one page can be pinned at once: the low 12 bits of its directory slot. */
const MAX_PINS = PAGE - 1;

function filled(length: number, value: number): Uint8Array {
  return new Uint8Array(length).fill(value);
}

/** toEqual compares typed arrays element by element, slowly: this is what the tests need. */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

function copied(store: { read(buf: Uint8Array, offset: number): void }, offset: number, n: number) {
  const buf = filled(n, 0xee);
  store.read(buf, offset);
  return buf;
}

describe("sparse allocator: lent reads", () => {
  test("views of data and holes interleaved hold exactly the bytes read() copies", () => {
    const store = createSparseAllocator(BigInt(GiB)); // one for all runs: an instance is costly
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(64 * PAGE), fc.integer({ min: 1, max: 5 * PAGE })), {
          maxLength: 12,
        }),
        fc.nat(64 * PAGE),
        fc.integer({ min: 1, max: 40 * PAGE }),
        (writes, offset, count) => {
          writes.forEach(([at, n], i) => store.write(filled(n, i + 1), at));
          const loan = store.lend(count, offset)!;
          expect(sameBytes(concat(...loan.views), copied(store, offset, count))).toBe(true);
          loan.release();
          store.zero(70 * PAGE, 0);
          expect(store.allocatedBytes()).toBe(0); // released: no pin keeps a page
        },
      ),
      { numRuns: 100 },
    );
  });

  test("each run of pages in line is one view of WASM memory; holes share one zero buffer", () => {
    const store = createSparseAllocator(BigInt(GiB));
    store.write(filled(16 * PAGE, 7), 0);
    store.write(filled(8 * PAGE, 9), 64 * PAGE);
    const loan = store.lend(96 * PAGE, 0)!;
    const data = loan.views.filter((view) => view[0] !== 0);
    const holes = loan.views.filter((view) => view[0] === 0);
    expect(holes.map((view) => view.length)).toEqual([48 * PAGE, 24 * PAGE]);
    expect(holes[0].buffer).toBe(holes[1].buffer);
    expect(store.lend(PAGE, 200 * PAGE)!.views[0].buffer).toBe(holes[0].buffer);
    for (const view of data) expect(view.buffer).not.toBe(holes[0].buffer);
    // Coalesced: no data view ends where the next one, just after it on the disk, starts.
    const views = loan.views;
    for (let i = 1; i < views.length; i++) {
      if (views[i - 1][0] === 0 || views[i][0] === 0) continue;
      expect(views[i - 1].byteOffset + views[i - 1].length).not.toBe(views[i].byteOffset);
    }
    expect(store.lend(15 * PAGE, PAGE)!.views).toHaveLength(1); // pages 1-15 follow each other
    loan.release();
  });

  test("isAllZero is true for holes alone and false as soon as a run holds data", () => {
    const store = createSparseAllocator(BigInt(GiB));
    store.write(filled(10, 1), 5 * PAGE + PAGE - 10);
    const holes = store.lend(5 * PAGE, 0)!;
    const mixed = store.lend(10 * PAGE, 0)!;
    expect(holes.isAllZero()).toBe(true);
    expect(mixed.isAllZero()).toBe(false);
    holes.release();
    mixed.release();
  });

  test("lent pages stay put through zero and trim: they read as zero, and are freed on release", () => {
    const store = createSparseAllocator(BigInt(GiB));
    store.write(filled(8 * PAGE, 3), 0);
    const loan = store.lend(8 * PAGE, 0)!;
    store.zero(8 * PAGE, 0);
    expect(store.allocatedBytes()).toBe(8 * PAGE); // pinned: zero-filled, not freed
    expect(copied(store, 0, 8 * PAGE)).toEqual(new Uint8Array(8 * PAGE));
    // A write elsewhere cannot take the lent pages: the reply shows zeroes, never its bytes.
    store.write(filled(8 * PAGE, 0x44), 100 * PAGE);
    expect(concat(...loan.views)).toEqual(new Uint8Array(8 * PAGE));
    loan.release();
    expect(store.allocatedBytes()).toBe(8 * PAGE); // only the write's pages are left
    expect(copied(store, 100 * PAGE, 8 * PAGE)).toEqual(filled(8 * PAGE, 0x44));
  });

  test("a page lent twice stays until both loans are released; a second release does nothing", () => {
    const store = createSparseAllocator(BigInt(GiB));
    store.write(filled(PAGE, 5), 0);
    const first = store.lend(PAGE, 0)!;
    const second = store.lend(PAGE, 0)!;
    first.release();
    first.release(); // must not take the second loan's pin
    store.zero(PAGE, 0);
    expect(store.allocatedBytes()).toBe(PAGE);
    second.release();
    expect(store.allocatedBytes()).toBe(0);
  });

  test("a page pinned as often as its slot can count is not lent again: the caller copies", () => {
    const store = createSparseAllocator(BigInt(GiB));
    store.write(filled(2 * PAGE, 6), 0);
    const loans = Array.from({ length: MAX_PINS }, () => store.lend(PAGE, PAGE)!);
    expect(loans.every((loan) => loan !== undefined)).toBe(true);
    expect(store.lend(2 * PAGE, 0)).toBeUndefined(); // page 1 is full: nothing stays pinned
    expect(copied(store, 0, 2 * PAGE)).toEqual(filled(2 * PAGE, 6));
    for (const loan of loans) loan.release();
    store.zero(2 * PAGE, 0);
    expect(store.allocatedBytes()).toBe(0); // no pin left behind on page 0 or page 1
  });

  test("pages spread over shards are lent from each and unpinned in each", () => {
    const store = createSparseAllocator(BigInt(GiB), { shardBytes: 128 * 1024 });
    store.write(filled(64 * PAGE, 1), 0); // spills into a second shard
    expect(store.shardCount()).toBeGreaterThan(1);
    const loan = store.lend(64 * PAGE, 0)!;
    expect(concat(...loan.views)).toEqual(filled(64 * PAGE, 1));
    loan.release();
    store.zero(64 * PAGE, 0);
    expect(store.allocatedBytes()).toBe(0);
  });
});
