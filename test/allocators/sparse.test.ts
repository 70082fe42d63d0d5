// The sparse allocator's own promises: zero pages cost nothing, freed pages are reused, a huge
// sparse disk stays small, 2^63-1 bytes work, and shards fill up and then refuse with ENOSPC.
// Its extents are nbdkit's: 32 KiB pages, and ZERO for pages nbdkit would hold with zeroes
// written in them (the answers below are nbdkit 1.32.5's for the same writes).

import { describe, expect, test } from "vitest";
import { createSparseAllocator, shardBytesFor } from "../../src/allocators/sparse.ts";
import { MAX_SHARD_BYTES } from "../../src/wasm/hotpath.ts";
import { NbdError } from "../../src/api/errors.ts";
import type { Offset } from "../../src/api/plugin.ts";

const PAGE = 4096;
const MiB = 1 << 20;
const GiB = 2 ** 30;
const BIG_PAGE = 32 * 1024;
const DATA = 0;
const ZERO = 2;
const HOLE = 3;

function filled(length: number, value = 0x5a): Uint8Array {
  return new Uint8Array(length).fill(value);
}

function readBack(
  store: { read(buf: Uint8Array, offset: Offset): void },
  offset: Offset,
  n: number,
) {
  const buf = filled(n, 0xee);
  store.read(buf, offset);
  return buf;
}

/** -1 when the bytes are equal, else the index of the first difference (quicker than toEqual). */
function firstDifference(got: Uint8Array, want: Uint8Array): number {
  if (got.length !== want.length) return Math.min(got.length, want.length);
  return got.findIndex((byte, i) => byte !== want[i]);
}

function extentList(
  store: {
    extents(
      count: number,
      offset: Offset,
      sink: { add(o: Offset, l: Offset, t: number): void },
    ): void;
  },
  count: number,
  offset: Offset,
): [Offset, Offset, number][] {
  const list: [Offset, Offset, number][] = [];
  store.extents(count, offset, { add: (o, l, t) => list.push([o, l, t]) });
  return list;
}

describe("sparse allocator", () => {
  test("a new disk reads as zero and is one hole", () => {
    const store = createSparseAllocator(BigInt(GiB));
    expect(firstDifference(readBack(store, 12345, 10000), new Uint8Array(10000))).toBe(-1);
    expect(extentList(store, GiB, 0)).toEqual([[0, GiB, HOLE]]);
    expect(store.allocatedBytes()).toBe(0);
  });

  test("writes that straddle pages read back, and extents cover whole 32 KiB pages", () => {
    const store = createSparseAllocator(BigInt(GiB));
    store.write(filled(10000, 7), 1000);
    const back = readBack(store, 0, 12000);
    expect(back.subarray(0, 1000).every((b) => b === 0)).toBe(true);
    expect(back.subarray(1000, 11000).every((b) => b === 7)).toBe(true);
    expect(back.subarray(11000).every((b) => b === 0)).toBe(true);
    expect(extentList(store, 20000, 0)).toEqual([[0, BIG_PAGE, DATA]]);
    expect(extentList(store, 2 * BIG_PAGE, 0)).toEqual([[0, BIG_PAGE, DATA], [
      BIG_PAGE,
      BIG_PAGE,
      HOLE,
    ]]);
    expect(store.allocatedBytes()).toBe(3 * PAGE);
  });

  test("writing zeroes stores nothing, yet its pages are zero, not holes, as nbdkit's", () => {
    const store = createSparseAllocator(BigInt(GiB));
    store.write(new Uint8Array(MiB), 5 * MiB);
    store.write(new Uint8Array(100), 77);
    expect(store.allocatedBytes()).toBe(0);
    expect(extentList(store, 8 * MiB, 0)).toEqual([
      [0, BIG_PAGE, ZERO],
      [BIG_PAGE, 5 * MiB - BIG_PAGE, HOLE],
      [5 * MiB, MiB, ZERO],
      [6 * MiB, 2 * MiB, HOLE],
    ]);
    store.zero(1, 5 * MiB + 3 * BIG_PAGE + 7); // a zero frees the page it leaves all zero
    store.zero(2 * MiB, 6 * MiB - BIG_PAGE);
    expect(extentList(store, 8 * MiB, 0)).toEqual([
      [0, BIG_PAGE, ZERO],
      [BIG_PAGE, 5 * MiB - BIG_PAGE, HOLE],
      [5 * MiB, 3 * BIG_PAGE, ZERO],
      [5 * MiB + 3 * BIG_PAGE, BIG_PAGE, HOLE],
      [5 * MiB + 4 * BIG_PAGE, MiB - 5 * BIG_PAGE, ZERO],
      [6 * MiB - BIG_PAGE, 2 * MiB + BIG_PAGE, HOLE],
    ]);
  });

  test("zeroes written over the last data of a page free it; nbdkit's page reads as zero", () => {
    const store = createSparseAllocator(BigInt(GiB));
    store.write(filled(10), PAGE + 100);
    store.write(filled(10), 5 * BIG_PAGE);
    store.write(new Uint8Array(10), PAGE + 100);
    expect(store.allocatedBytes()).toBe(PAGE);
    expect(extentList(store, 6 * BIG_PAGE, 0)).toEqual([
      [0, BIG_PAGE, ZERO],
      [BIG_PAGE, 4 * BIG_PAGE, HOLE],
      [5 * BIG_PAGE, BIG_PAGE, DATA],
    ]);
  });

  test("zeroing whole pages frees them; zeroing part of a page frees it once it is all zero", () => {
    const store = createSparseAllocator(BigInt(GiB));
    store.write(filled(8 * PAGE), 0);
    store.zero(4 * PAGE, 2 * PAGE);
    expect(store.allocatedBytes()).toBe(4 * PAGE);
    store.zero(100, 0);
    expect(store.allocatedBytes()).toBe(4 * PAGE);
    store.zero(PAGE - 100, 100);
    expect(store.allocatedBytes()).toBe(3 * PAGE);
    expect(firstDifference(readBack(store, 0, 2 * PAGE), filled(2 * PAGE, 0).fill(0x5a, PAGE)))
      .toBe(-1);
    expect(extentList(store, 8 * PAGE, 0)).toEqual([[0, BIG_PAGE, DATA]]);
    store.zero(PAGE, PAGE);
    store.zero(2 * PAGE, 6 * PAGE);
    expect(store.allocatedBytes()).toBe(0);
    expect(extentList(store, 8 * PAGE, 0)).toEqual([[0, BIG_PAGE, HOLE]]);
  });

  test("freed pages are reused before memory grows", () => {
    const store = createSparseAllocator(BigInt(GiB));
    store.write(filled(8 * MiB), 0);
    const memory = store.memoryBytes();
    for (let round = 1; round <= 5; round++) {
      store.zero(8 * MiB, 100 * MiB * (round - 1));
      expect(store.allocatedBytes()).toBe(0);
      store.write(filled(8 * MiB, round), 100 * MiB * round); // elsewhere each time
    }
    expect(store.memoryBytes()).toBe(memory);
  });

  test("a data run over full 2 MiB directory tables is one extent", () => {
    const store = createSparseAllocator(BigInt(GiB));
    store.write(filled(5 * MiB), MiB);
    expect(extentList(store, 8 * MiB, 0)).toEqual([
      [0, MiB, HOLE],
      [MiB, 5 * MiB, DATA],
      [6 * MiB, 2 * MiB, HOLE],
    ]);
    store.zero(PAGE, 4 * MiB);
    expect(extentList(store, 5 * MiB, MiB)).toEqual([[MiB, 5 * MiB, DATA]]);
    store.zero(BIG_PAGE, 4 * MiB);
    expect(extentList(store, 5 * MiB, MiB)).toEqual([
      [MiB, 3 * MiB, DATA],
      [4 * MiB, BIG_PAGE, HOLE],
      [4 * MiB + BIG_PAGE, 2 * MiB - BIG_PAGE, DATA],
    ]);
  });

  test("a 64 GiB disk with 4 MiB scattered over it costs a few MiB, and its map is quick", () => {
    const size = 64 * GiB;
    const store = createSparseAllocator(BigInt(size));
    const pages = new Set<number>();
    for (let i = 0; pages.size < 1024; i++) {
      pages.add((Math.imul(i, 2654435761) >>> 0) % (size / PAGE));
    }
    for (const page of pages) store.write(filled(PAGE, 1), page * PAGE);
    expect(store.allocatedBytes()).toBe(4 * MiB);
    expect(store.memoryBytes()).toBeLessThan(8 * MiB);
    let data = 0;
    for (let offset = 0; offset < size; offset += 4 * GiB) {
      for (const [, length, type] of extentList(store, 4 * GiB, offset)) {
        if (type === DATA) data += Number(length);
      }
    }
    const bigPages = new Set([...pages].map((page) => Math.floor(page * PAGE / BIG_PAGE)));
    expect(data).toBe(bigPages.size * BIG_PAGE);
  });

  test("the last sector of a 2^63-1 byte disk can be written and read", () => {
    const size = (1n << 63n) - 1n;
    const store = createSparseAllocator(size);
    const last = size - 512n;
    store.write(filled(512, 0xab), last);
    expect(firstDifference(readBack(store, last, 512), filled(512, 0xab))).toBe(-1);
    expect(firstDifference(readBack(store, last - 512n, 512), new Uint8Array(512))).toBe(-1);
    // nbdkit's last page holds the last 32767 bytes: the map ends exactly at the end of the disk.
    const lastPage = size / 32768n * 32768n;
    expect(extentList(store, 512, last)).toEqual([[last, 512, DATA]]);
    expect(extentList(store, 1024, lastPage - 512n)).toEqual([
      [lastPage - 512n, 512, HOLE],
      [lastPage, 32767, DATA],
    ]);
    expect(store.allocatedBytes()).toBe(PAGE);
  });

  test("offsets just below and past 2^53 stay exact", () => {
    const store = createSparseAllocator(1n << 60n);
    const edge = 2 ** 53;
    store.write(filled(PAGE, 9), edge - 100);
    expect(firstDifference(readBack(store, edge - 100, PAGE), filled(PAGE, 9))).toBe(-1);
    expect(firstDifference(readBack(store, BigInt(edge) + 3996n, 100), new Uint8Array(100))).toBe(
      -1,
    );
    expect(extentList(store, 3 * BIG_PAGE, edge - PAGE)).toEqual([
      [edge - PAGE, PAGE + BIG_PAGE, DATA],
      [BigInt(edge) + BigInt(BIG_PAGE), 2 * BIG_PAGE, HOLE], // to the end of the page, as nbdkit
    ]);
  });
});

describe("sparse allocator shards", () => {
  test("a small disk's shard is made for its size, a large one's at the most a shard may have", () => {
    expect(shardBytesFor(BigInt(MiB))).toBeLessThan(3 * MiB);
    expect(shardBytesFor(0n)).toBe(MiB);
    expect(shardBytesFor(BigInt(GiB))).toBeLessThan(1.01 * GiB);
    expect(shardBytesFor(4n * BigInt(GiB))).toBe(MAX_SHARD_BYTES);
    expect(shardBytesFor(2n ** 63n - 1n)).toBe(MAX_SHARD_BYTES);
  });

  test("every page of a small disk fits in its one shard, its directory too", () => {
    // A page in each 2 MiB region first, so that every directory table is made between pages.
    const size = 64 * MiB + 3 * PAGE;
    const store = createSparseAllocator(BigInt(size));
    const pages = size / PAGE;
    const order = [...Array(pages).keys()].sort((a, b) => (a % 512) - (b % 512) || a - b);
    for (const page of order) store.write(filled(PAGE, (page % 255) + 1), page * PAGE);
    expect(store.shardCount()).toBe(1);
    expect(store.allocatedBytes()).toBe(size);
    for (const page of [0, 511, 512, pages - 1]) {
      expect(firstDifference(readBack(store, page * PAGE, PAGE), filled(PAGE, (page % 255) + 1)))
        .toBe(-1);
    }
  });

  test("data spreads over new shards when one is full, and reads back", () => {
    const store = createSparseAllocator(BigInt(GiB), { shardBytes: 256 * 1024 });
    for (let i = 0; i < 200; i++) store.write(filled(PAGE, i + 1), i * 2 * BIG_PAGE);
    expect(store.shardCount()).toBeGreaterThan(2);
    for (let i = 0; i < 200; i++) {
      expect(firstDifference(readBack(store, i * 2 * BIG_PAGE, PAGE), filled(PAGE, i + 1)))
        .toBe(-1);
    }
    expect(store.allocatedBytes()).toBe(200 * PAGE);
    const map = extentList(store, 400 * BIG_PAGE, 0);
    expect(map.filter(([, , type]) => type === DATA)).toHaveLength(200);
  });

  test("a data run continues from one shard into the next", () => {
    const store = createSparseAllocator(BigInt(GiB), { shardBytes: 128 * 1024 });
    store.write(filled(64 * PAGE), 0);
    expect(store.shardCount()).toBeGreaterThan(1);
    expect(extentList(store, 100 * PAGE, 0)).toEqual([[0, 64 * PAGE, DATA], [
      64 * PAGE,
      40 * PAGE,
      HOLE,
    ]]);
  });

  test("when no shard can take a page the write fails with ENOSPC, and zeroing makes room", () => {
    const store = createSparseAllocator(BigInt(GiB), { shardBytes: 128 * 1024, maxShards: 2 });
    let written = 0;
    const error = (() => {
      try {
        for (; written < 1000; written++) store.write(filled(PAGE, 1), written * PAGE);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(NbdError);
    expect((error as NbdError).errno).toBe("ENOSPC");
    expect(written).toBeGreaterThan(20);
    expect(store.shardCount()).toBe(2);
    expect(firstDifference(readBack(store, 0, written * PAGE), filled(written * PAGE, 1))).toBe(-1);
    store.write(new Uint8Array(PAGE), written * PAGE); // zeroes need no room
    store.zero(4 * PAGE, 0);
    store.write(filled(4 * PAGE, 2), written * PAGE);
    expect(firstDifference(readBack(store, written * PAGE, 4 * PAGE), filled(4 * PAGE, 2))).toBe(
      -1,
    );
  });

  test("a long write that runs out of room keeps what it stored and stores no stale bytes", () => {
    const store = createSparseAllocator(BigInt(GiB), { shardBytes: 128 * 1024, maxShards: 2 });
    let full = 0;
    expect(() => {
      for (; full < 1000; full++) store.write(filled(PAGE, 1), full * PAGE);
    }).toThrow(NbdError);
    store.zero(8 * PAGE, 0); // 8 free pages that still hold old bytes
    const far = (full + 10) * PAGE; // a region whose directory table exists: only pages needed
    expect(() => store.write(filled(16 * PAGE, 2), far)).toThrow(/Cannot store data/);
    expect(firstDifference(readBack(store, far, 8 * PAGE), filled(8 * PAGE, 2))).toBe(-1);
    expect(firstDifference(readBack(store, far + 8 * PAGE, 8 * PAGE), filled(8 * PAGE, 0)))
      .toBe(-1);
    expect(store.allocatedBytes()).toBe(full * PAGE);
  });
});

describe("sparse allocator: payloads received in place", () => {
  test("a placed payload shows at its offset as it arrives, and release keeps it", () => {
    const store = createSparseAllocator(BigInt(GiB));
    const placement = store.place(3 * PAGE, 5 * PAGE + 100)!;
    expect(placement.view.length).toBe(3 * PAGE);
    placement.view.subarray(0, PAGE).fill(4);
    expect(firstDifference(readBack(store, 5 * PAGE + 100, PAGE), filled(PAGE, 4))).toBe(-1);
    placement.view.subarray(PAGE).fill(5);
    store.release(placement);
    const back = readBack(store, 5 * PAGE, 5 * PAGE);
    expect(firstDifference(back.subarray(100, 100 + PAGE), filled(PAGE, 4))).toBe(-1);
    expect(firstDifference(back.subarray(100 + PAGE, 100 + 3 * PAGE), filled(2 * PAGE, 5)))
      .toBe(-1);
    expect(back.subarray(0, 100).every((b) => b === 0)).toBe(true);
    expect(store.allocatedBytes()).toBe(4 * PAGE);
  });

  test("pages placed but left all zero are freed on release, as a write of zeroes would be", () => {
    const store = createSparseAllocator(BigInt(GiB));
    const placement = store.place(8 * PAGE, 0)!;
    const zeroes = store.place(8 * PAGE, BIG_PAGE)!;
    const neverCame = store.place(8 * PAGE, 2 * BIG_PAGE)!;
    expect(store.allocatedBytes()).toBe(24 * PAGE); // the room exists while the payload comes
    placement.view.subarray(2 * PAGE, 2 * PAGE + 1).fill(1); // one byte on the third page
    store.release(placement);
    store.release(zeroes); // a write of zeroes: nbdkit keeps the page, so ZERO
    store.release(neverCame, false); // nothing was written: a hole
    expect(store.allocatedBytes()).toBe(PAGE);
    expect(extentList(store, 3 * BIG_PAGE, 0)).toEqual([
      [0, BIG_PAGE, DATA],
      [BIG_PAGE, BIG_PAGE, ZERO],
      [2 * BIG_PAGE, BIG_PAGE, HOLE],
    ]);
  });

  test("a zero or trim of placed pages zeroes them but frees none until release", () => {
    const store = createSparseAllocator(BigInt(GiB));
    store.write(filled(4 * PAGE, 1), 0);
    const placement = store.place(2 * PAGE, PAGE)!;
    store.zero(4 * PAGE, 0); // pages 0 and 3 go; pages 1 and 2 stay where the payload goes
    expect(store.allocatedBytes()).toBe(2 * PAGE);
    expect(firstDifference(readBack(store, 0, 4 * PAGE), new Uint8Array(4 * PAGE))).toBe(-1);
    // Pages freed meanwhile are reused elsewhere; the placed ones must not be.
    store.write(filled(4 * PAGE, 7), 100 * PAGE);
    placement.view.fill(9);
    store.release(placement);
    expect(firstDifference(readBack(store, 100 * PAGE, 4 * PAGE), filled(4 * PAGE, 7))).toBe(-1);
    expect(firstDifference(readBack(store, PAGE, 2 * PAGE), filled(2 * PAGE, 9))).toBe(-1);
    expect(store.allocatedBytes()).toBe(6 * PAGE);
  });

  test("two payloads placed over the same page both keep it until the last is released", () => {
    const store = createSparseAllocator(BigInt(GiB));
    const first = store.place(PAGE, 0)!;
    const second = store.place(PAGE, 0)!;
    expect(second.view.byteOffset).toBe(first.view.byteOffset);
    store.release(first);
    store.zero(PAGE, 0);
    store.write(filled(PAGE, 3), 50 * PAGE); // would take page 0's memory if it had been freed
    second.view.fill(8);
    store.release(second);
    expect(firstDifference(readBack(store, 50 * PAGE, PAGE), filled(PAGE, 3))).toBe(-1);
    expect(firstDifference(readBack(store, 0, PAGE), filled(PAGE, 8))).toBe(-1);
  });

  test("freed pages are reused before a placement takes fresh memory: trim and rewrite cycles stay bounded", () => {
    const store = createSparseAllocator(BigInt(GiB));
    const RUN = 256; // one 1 MiB payload
    const fill = (offset: number) => {
      const placement = store.place(RUN * PAGE, offset);
      if (placement) {
        placement.view.fill(7);
        store.release(placement);
      } else {
        store.write(filled(RUN * PAGE, 7), offset);
      }
    };
    for (let i = 0; i < 16; i++) fill(i * RUN * PAGE);
    const grown = store.memoryBytes();
    for (let cycle = 0; cycle < 4; cycle++) {
      store.zero(16 * RUN * PAGE, 0); // every page freed
      expect(store.allocatedBytes()).toBe(0);
      expect(store.place(RUN * PAGE, 0)).toBeUndefined(); // 4096 freed pages wait
      for (let i = 0; i < 16; i++) fill(i * RUN * PAGE);
    }
    expect(store.memoryBytes()).toBe(grown);
    expect(firstDifference(readBack(store, 15 * RUN * PAGE, RUN * PAGE), filled(RUN * PAGE, 7)))
      .toBe(-1);
  });

  test("no room is offered over scattered pages or with more than one shard; write() still works", () => {
    const store = createSparseAllocator(BigInt(GiB));
    store.write(filled(PAGE, 1), 10 * PAGE);
    store.write(filled(PAGE, 1), 90 * PAGE); // after page 10 in memory, not beside it
    store.write(filled(PAGE, 1), 11 * PAGE);
    expect(store.place(2 * PAGE, 10 * PAGE)).toBeUndefined(); // pages 10 and 11 are apart
    expect(store.place(2 * PAGE, 11 * PAGE)).toBeUndefined(); // page 12 is absent, 11 is not
    expect(store.place(PAGE, 11 * PAGE)).toBeDefined();
    const sharded = createSparseAllocator(BigInt(GiB), { shardBytes: 128 * 1024 });
    sharded.write(filled(64 * PAGE), 0);
    expect(sharded.shardCount()).toBeGreaterThan(1);
    expect(sharded.place(PAGE, 200 * PAGE)).toBeUndefined();
  });
});
