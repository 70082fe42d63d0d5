// allocator=malloc: a flat store that refuses at configuration a size it cannot hold and reports
// every byte as data, as nbdkit's malloc allocator does.

import { describe, expect, test } from "vitest";
import { createMallocAllocator } from "../../src/allocators/malloc.ts";
import { ConfigError, NbdError } from "../../src/api/errors.ts";
import type { Offset } from "../../src/api/plugin.ts";

describe("malloc allocator", () => {
  test("reads zero at first, then what was written; zero clears", () => {
    const store = createMallocAllocator(65536n);
    const buf = new Uint8Array(100).fill(0xee);
    store.read(buf, 1000);
    expect(buf.every((b) => b === 0)).toBe(true);
    store.write(new Uint8Array(100).fill(3), 1000);
    store.zero(10, 1050);
    store.read(buf, 1000);
    expect([buf[0], buf[49], buf[50], buf[59], buf[60], buf[99]]).toEqual([3, 3, 0, 0, 3, 3]);
  });

  test("extents report the whole range as data, and it holds all its bytes", () => {
    const store = createMallocAllocator(65536n);
    const list: [Offset, Offset, number][] = [];
    store.extents(4096, 512, { add: (o, l, t) => list.push([o, l, t]) });
    expect(list).toEqual([[512, 4096, 0]]);
    expect(store.allocatedBytes()).toBe(65536);
  });

  test("a size this runtime cannot allocate is a ConfigError naming allocator=sparse", () => {
    for (const size of [1n << 50n, (1n << 63n) - 1n]) {
      expect(() => createMallocAllocator(size)).toThrow(ConfigError);
      expect(() => createMallocAllocator(size)).toThrow(
        /allocator=malloc: cannot allocate.*allocator=sparse/,
      );
    }
  });

  test("access past the end fails with an errno instead of being clipped", () => {
    const store = createMallocAllocator(4096n);
    expect(() => store.write(new Uint8Array(2), 4095)).toThrow(NbdError);
    expect(() => store.read(new Uint8Array(2), 4095)).toThrow(NbdError);
  });
});
