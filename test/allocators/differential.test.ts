// Random sequences of write/zero/read/extents on the sparse allocator (one shard, and many tiny
// shards) and on malloc must match the reference allocator (nbdkit's sparse allocator as it
// behaves: 32 KiB pages, zeroes written stay allocated) byte for byte and extent for extent,
// near offset 0, across 2^53 and at the end of a 2^63-1 byte disk. Writes received in place
// (place, a zero or trim landing meanwhile, part or all of the payload, release) must end as
// that zero followed by a write of the payload, or, when only part came, by a copy (nbdkit's
// blit) of what the room then holds.

import { describe, expect, test } from "vitest";
import fc from "fast-check";
import type { Allocator } from "../../src/allocators/allocator.ts";
import { createMallocAllocator } from "../../src/allocators/malloc.ts";
import {
  createReferenceAllocator,
  type ReferenceAllocator,
} from "../../src/allocators/reference.ts";
import { createSparseAllocator } from "../../src/allocators/sparse.ts";
import { toOffset } from "../../src/api/parse.ts";
import type { Offset } from "../../src/api/plugin.ts";

const PAGE = 4096;
const BIG_PAGE = 32768;
/** Each region spans 3 of nbdkit's pages and a bit, so random operations often overlap. */
const SPAN = 3 * BIG_PAGE + 1000;
const HUGE = (1n << 63n) - 1n;
const REGIONS = [0n, (1n << 53n) - 10_000n, HUGE - BigInt(SPAN)];

type Op =
  | { kind: "write"; at: number; length: number; fill: Fill; seed: number }
  | {
    kind: "placed";
    at: number;
    length: number;
    fill: Fill;
    seed: number;
    /** A zero of [zeroAt, zeroAt+zeroLength) lands while the payload is being received. */
    zeroAt: number;
    zeroLength: number;
    /** How much of the payload arrives before the room is released (1: all of it). */
    arrived: number;
  }
  | { kind: "zero"; at: number; length: number }
  | { kind: "read"; at: number; length: number }
  | { kind: "extents"; at: number; length: number };
type Fill = "zero" | "random" | "speck";

/** Offsets inside a region, often page-aligned so that whole-page paths run too. */
const at = fc.oneof(
  fc.nat(SPAN - 1),
  fc.nat(23).map((page) => page * PAGE),
  fc.nat(2).map((page) => page * BIG_PAGE),
);
const length = fc.oneof(
  fc.nat(3 * PAGE),
  fc.integer({ min: 1, max: 3 }).map((n) => n * PAGE),
  fc.integer({ min: 1, max: 2 }).map((n) => n * BIG_PAGE),
);
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant("write" as const),
    at,
    length,
    fill: fc.constantFrom<Fill>("zero", "random", "speck"),
    seed: fc.nat(),
  }),
  fc.record({
    kind: fc.constant("placed" as const),
    at,
    length,
    fill: fc.constantFrom<Fill>("zero", "random", "speck"),
    seed: fc.nat(),
    zeroAt: at,
    zeroLength: fc.oneof(fc.constant(0), length),
    arrived: fc.constantFrom(1, 1, 0.5, 0),
  }),
  fc.record({ kind: fc.constant("zero" as const), at, length }),
  fc.record({ kind: fc.constant("read" as const), at, length }),
  fc.record({ kind: fc.constant("extents" as const), at, length: length.map((n) => n + 1) }),
);

/** Bytes for a write: all zero, random, or zero with one non-zero speck. */
function bytesFor(fill: Fill, length: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(length);
  let x = seed | 1;
  const next = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 24;
  if (fill === "random") { for (let i = 0; i < length; i++) bytes[i] = next(); }
  if (fill === "speck" && length > 0) bytes[seed % length] = 1 + (seed % 255);
  return bytes;
}

type Run = [start: bigint, end: bigint, type: number];

/** Extents as absolute runs clipped to [from, to), adjacent runs of one type merged. */
function extentRuns(store: Allocator, from: bigint, count: number): Run[] {
  const to = from + BigInt(count);
  const raw: Run[] = [];
  store.extents(count, toOffset(from), {
    add(offset: Offset, length: Offset, type: number) {
      const start = BigInt(offset);
      const end = start + BigInt(length);
      const previous = raw.at(-1);
      expect(start, "extents are contiguous").toBe(previous ? previous[1] : from);
      expect(end > start, "extents are not empty").toBe(true);
      raw.push([start, end, type]);
    },
  });
  const runs: Run[] = [];
  for (const [start, end, type] of raw) {
    const clipped: Run = [start, end < to ? end : to, type];
    if (clipped[0] >= clipped[1]) continue;
    const last = runs.at(-1);
    if (last && last[2] === type && last[1] === clipped[0]) last[1] = clipped[1];
    else runs.push(clipped);
  }
  expect(runs.at(-1)?.[1], "extents cover the range").toBe(to);
  return runs;
}

function readAll(store: Allocator, from: bigint, length: number): Uint8Array {
  const buf = new Uint8Array(length).fill(0xaa); // stale bytes must be overwritten
  store.read(buf, toOffset(from));
  return buf;
}

/** Both stores read the same bytes at `from`; a mismatch names its first differing byte. */
function expectSameBytes(store: Allocator, reference: Allocator, from: bigint, length: number) {
  const got = readAll(store, from, length);
  const want = readAll(reference, from, length);
  const differs = got.findIndex((byte, i) => byte !== want[i]);
  if (differs >= 0) {
    expect({ at: from + BigInt(differs), byte: got[differs] })
      .toEqual({ at: from + BigInt(differs), byte: want[differs] });
  }
}

/** Applies `ops` to every store and checks they agree on each read and each extent map. */
function runAgainstReference(
  make: () => Allocator,
  size: bigint,
  regions: bigint[],
  ops: [number, Op][],
  checkExtents: (store: Allocator, reference: Allocator, from: bigint, count: number) => void,
): void {
  const store = make();
  const reference: ReferenceAllocator = createReferenceAllocator(size);
  for (const [region, o] of ops) {
    const from = regions[region % regions.length] + BigInt(o.at);
    const length = Math.min(o.length, SPAN - o.at);
    const offset = toOffset(from);
    if (o.kind === "write") {
      const bytes = bytesFor(o.fill, length, o.seed);
      store.write(bytes, offset);
      reference.write(bytes, offset);
    } else if (o.kind === "placed") {
      const bytes = bytesFor(o.fill, length, o.seed).subarray(0, Math.floor(length * o.arrived));
      const zeroFrom = regions[region % regions.length] + BigInt(o.zeroAt);
      const zeroLength = Math.min(o.zeroLength, SPAN - o.zeroAt);
      const placement = store.place?.(length, offset);
      store.zero(zeroLength, toOffset(zeroFrom));
      reference.zero(zeroLength, toOffset(zeroFrom));
      const whole = o.arrived === 1;
      if (placement) {
        const rest = readAll(reference, from + BigInt(bytes.length), length - bytes.length);
        placement.view.set(bytes);
        store.release!(placement, whole);
        if (whole) reference.write(bytes, offset);
        else reference.copyIn(new Uint8Array([...bytes, ...rest]), offset);
      } else {
        store.write(bytes, offset);
        reference.write(bytes, offset);
      }
    } else if (o.kind === "zero") {
      store.zero(length, offset);
      reference.zero(length, offset);
    } else if (o.kind === "read") {
      expectSameBytes(store, reference, from, length);
    } else if (length > 0) {
      checkExtents(store, reference, from, length);
    }
  }
  for (const base of regions) {
    expectSameBytes(store, reference, base, SPAN);
    checkExtents(store, reference, base, SPAN);
  }
  return void expect(store.allocatedBytes()).toBe(
    store.kind === "malloc" ? Number(size) : dataPages(reference, size, regions) * PAGE,
  );
}

/** 4 KiB pages holding a non-zero byte: the sparse allocator keeps these and no others. */
function dataPages(reference: Allocator, size: bigint, regions: bigint[]): number {
  let count = 0;
  for (const base of regions) {
    const first = base / BigInt(PAGE) * BigInt(PAGE);
    const end = first + BigInt(SPAN + 2 * PAGE);
    const bytes = readAll(reference, first, Number((end < size ? end : size) - first));
    for (let at = 0; at < bytes.length; at += PAGE) {
      if (bytes.subarray(at, at + PAGE).some((byte) => byte !== 0)) count++;
    }
  }
  return count;
}

const sameExtents = (store: Allocator, reference: Allocator, from: bigint, count: number) =>
  expect(extentRuns(store, from, count)).toEqual(extentRuns(reference, from, count));

const opsIn = (regions: number) => fc.array(fc.tuple(fc.nat(regions - 1), op), { maxLength: 60 });

describe("allocators agree with the reference", () => {
  test("sparse, one shard, near 0, across 2^53 and at the end of a 2^63-1 disk", () => {
    fc.assert(
      fc.property(opsIn(REGIONS.length), (ops) => {
        runAgainstReference(() => createSparseAllocator(HUGE), HUGE, REGIONS, ops, sameExtents);
      }),
      { numRuns: 300 },
    );
  });

  test("sparse over many 64 KiB shards behaves as one store", () => {
    fc.assert(
      fc.property(opsIn(REGIONS.length), (ops) => {
        const make = () => createSparseAllocator(HUGE, { shardBytes: 65536 });
        runAgainstReference(make, HUGE, REGIONS, ops, sameExtents);
      }),
      { numRuns: 300 },
    );
  });

  test("malloc on a small disk, reporting everything as data", () => {
    const size = BigInt(SPAN);
    const allData = (store: Allocator, _reference: Allocator, from: bigint, count: number) =>
      expect(extentRuns(store, from, count)).toEqual([[from, from + BigInt(count), 0]]);
    fc.assert(
      fc.property(opsIn(1), (ops) => {
        runAgainstReference(() => createMallocAllocator(size), size, [0n], ops, allData);
      }),
      { numRuns: 300 },
    );
  });
});
