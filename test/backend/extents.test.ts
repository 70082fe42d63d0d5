import { describe, expect, test } from "vitest";
import { NbdError } from "../../src/api/errors.ts";
import { ExtentList } from "../../src/backend/extents.ts";
import { EXTENT } from "../../src/api/plugin.ts";
import { LIMITS } from "../../src/protocol/limits.ts";

const DATA = EXTENT.DATA;
const HOLE = EXTENT.HOLE | EXTENT.ZERO;

/** The stored extents as [start, end, type] rows, numbers where exact. */
function rows(list: ExtentList): [bigint, bigint, number][] {
  return list.types.map((type, i) => [list.starts[i], list.ends[i], type]);
}

function rangeError(add: () => void): void {
  let thrown: unknown;
  try {
    add();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(NbdError);
  expect((thrown as NbdError).errno).toBe("ERANGE");
}

describe("ExtentList follows nbdkit_add_extent", () => {
  test("zero-length extents are dropped", () => {
    const list = new ExtentList(0, 1000);
    list.add(0, 0, HOLE);
    list.add(0, 100, DATA);
    list.add(100, 0, HOLE);
    expect(rows(list)).toEqual([[0n, 100n, DATA]]);
  });

  test("the first extent is trimmed to start at the request offset", () => {
    const list = new ExtentList(100, 1000);
    list.add(0, 300, HOLE);
    expect(rows(list)).toEqual([[100n, 300n, HOLE]]);
  });

  test("extents wholly before the request offset are ignored", () => {
    const list = new ExtentList(100, 1000);
    list.add(0, 50, HOLE);
    list.add(50, 50, DATA);
    list.add(100, 100, HOLE);
    expect(rows(list)).toEqual([[100n, 200n, HOLE]]);
  });

  test("an extent running past the end of the export is clipped there", () => {
    const list = new ExtentList(0, 1000);
    list.add(0, 4096, HOLE);
    expect(rows(list)).toEqual([[0n, 1000n, HOLE]]);
  });

  test("adjacent extents of one type merge into one", () => {
    const list = new ExtentList(0, 1000);
    list.add(0, 100, DATA);
    list.add(100, 100, DATA);
    list.add(200, 100, HOLE);
    list.add(300, 100, HOLE);
    list.add(400, 100, DATA);
    expect(rows(list)).toEqual([[0n, 200n, DATA], [200n, 400n, HOLE], [400n, 500n, DATA]]);
  });

  test("a first extent starting after the request offset is ERANGE", () => {
    const list = new ExtentList(100, 1000);
    rangeError(() => list.add(150, 10, DATA));
  });

  test("a gap between extents is ERANGE", () => {
    const list = new ExtentList(0, 1000);
    list.add(0, 100, DATA);
    rangeError(() => list.add(101, 10, HOLE));
  });

  test("offsets and lengths past 2^53 stay exact", () => {
    const list = new ExtentList(1n << 60n, (1n << 63n) - 1n);
    list.add(0, 1n << 61n, HOLE);
    list.add(1n << 61n, (1n << 53n) + 1n, DATA);
    expect(rows(list)).toEqual([
      [1n << 60n, 1n << 61n, HOLE],
      [1n << 61n, (1n << 61n) + (1n << 53n) + 1n, DATA],
    ]);
  });

  test(`at most ${LIMITS.MAX_EXTENTS} extents are kept; later ones are dropped silently`, () => {
    const list = new ExtentList(0, 1n << 40n);
    for (let i = 0; i <= LIMITS.MAX_EXTENTS; i++) list.add(i, 1, i % 2 ? HOLE : DATA);
    expect(list.types.length).toBe(LIMITS.MAX_EXTENTS);
    expect(list.ends[LIMITS.MAX_EXTENTS - 1]).toBe(BigInt(LIMITS.MAX_EXTENTS));
  });
});

describe("ExtentList.toDescriptors builds block status descriptors as nbdkit does", () => {
  /** 4 KiB of data, then 4 KiB of hole, then data to the end of a 64 KiB export. */
  function layout(start = 0): ExtentList {
    const list = new ExtentList(start, 65536);
    list.add(0, 4096, DATA);
    list.add(4096, 4096, HOLE);
    list.add(8192, 65536 - 8192, DATA);
    return list;
  }

  test("REQ_ONE gives one descriptor, clipped to the request length", () => {
    expect(layout().toDescriptors(100, true)).toEqual({ lengths: [100], statuses: [0] });
    expect(layout().toDescriptors(10000, true)).toEqual({ lengths: [4096], statuses: [0] });
  });

  test("without REQ_ONE the last descriptor may run past the request", () => {
    expect(layout().toDescriptors(100, false)).toEqual({ lengths: [4096], statuses: [0] });
    expect(layout().toDescriptors(5000, false)).toEqual({
      lengths: [4096, 4096],
      statuses: [0, 3],
    });
  });

  test("an extent ending exactly at the request end gets no extra descriptor (quirk Q4)", () => {
    expect(layout().toDescriptors(4096, false)).toEqual({ lengths: [4096], statuses: [0] });
    expect(layout().toDescriptors(8192, false)).toEqual({
      lengths: [4096, 4096],
      statuses: [0, 3],
    });
  });

  test("descriptors start at the request offset, not at zero", () => {
    expect(layout(1000).toDescriptors(3096, false)).toEqual({ lengths: [3096], statuses: [0] });
    expect(layout(1000).toDescriptors(3097, false)).toEqual({
      lengths: [3096, 4096],
      statuses: [0, 3],
    });
  });

  test("a descriptor longer than 2^32 - 1 bytes is capped at 0xFFFFFFFF", () => {
    const list = new ExtentList(0, 1n << 40n);
    list.add(0, 1n << 40n, HOLE);
    expect(list.toDescriptors(512, false)).toEqual({ lengths: [0xffffffff], statuses: [3] });
    expect(list.toDescriptors(512, true)).toEqual({ lengths: [512], statuses: [3] });
  });

  test("statuses keep only the HOLE and ZERO bits", () => {
    const list = new ExtentList(0, 100);
    list.add(0, 100, 0xff);
    expect(list.toDescriptors(100, false).statuses).toEqual([3]);
  });
});

// nbdkit's rules for odd plugins (server/extents.c, nbdkit_add_extent, v1.32.5).
describe("ExtentList follows nbdkit_add_extent for odd plugins", () => {
  test("contiguous extents past the export end are ignored, not ERANGE", () => {
    // A plugin reporting whole 512-byte blocks on an export of 1000 bytes.
    const list = new ExtentList(0, 1000);
    list.add(0, 512, DATA);
    list.add(512, 512, HOLE);
    list.add(1024, 512, DATA); // nbdkit: offset >= end, ignored
    expect(rows(list)).toEqual([[0n, 512n, DATA], [512n, 1000n, HOLE]]);
  });

  test("a full list does not merge a later extent over a dropped one", () => {
    const list = new ExtentList(0, 1n << 40n);
    for (let i = 0; i < LIMITS.MAX_EXTENTS; i++) list.add(i, 1, i % 2 ? HOLE : DATA);
    const last = LIMITS.MAX_EXTENTS - 1;
    const lastType = list.types[last];
    list.add(LIMITS.MAX_EXTENTS, 10, lastType === DATA ? HOLE : DATA); // dropped: list full
    list.add(LIMITS.MAX_EXTENTS + 10, 10, lastType); // same type as the last stored one
    // nbdkit ignores both; the last stored extent must not now cover the dropped range.
    expect(list.ends[last]).toBe(BigInt(LIMITS.MAX_EXTENTS));
  });

  test("an extent overlapping the previous one is ERANGE", () => {
    const list = new ExtentList(0, 1000);
    list.add(0, 100, DATA);
    rangeError(() => list.add(50, 100, HOLE));
  });
});
