/**
 * The test oracle: nbdkit's sparse allocator (common/allocators/sparse.c) as it behaves, in the
 * plainest TypeScript: a Map from page index to a 32 KiB page, exact BigInt arithmetic
 * everywhere. It is slow, which is fine: it never serves a disk, it only checks the sparse and
 * malloc allocators.
 *
 * nbdkit's rules, which the sparse allocator must report the same: a write allocates every page
 * it touches, even with zeroes; a zero frees each page it covers whole or leaves all zero;
 * copyIn (nbdkit's blit) frees a page it leaves all zero; extents call a missing page a hole,
 * an allocated one ZERO when every byte from the offset asked to its end is zero, else DATA.
 */

import { toOffset } from "../api/parse.ts";
import { EXTENT, type ExtentSink, type Offset } from "../api/plugin.ts";
import type { Allocator } from "./allocator.ts";
import { NBDKIT_PAGE_SIZE } from "./zero-pages.ts";

export interface ReferenceAllocator extends Allocator {
  /** Stores `buf` as nbdkit's blit does: a page left all zero is freed. */
  copyIn(buf: Uint8Array, offset: Offset): void;
}

export function createReferenceAllocator(
  size: bigint,
  pageSize = NBDKIT_PAGE_SIZE,
): ReferenceAllocator {
  const pages = new Map<number, Uint8Array>();
  const bigPage = BigInt(pageSize);

  /** Calls `visit` for each page piece of [offset, offset+count), in order. */
  function eachPiece(
    offset: Offset,
    count: number,
    visit: (page: number, from: number, n: number, done: number) => void,
  ): void {
    let at = BigInt(offset);
    for (let done = 0; done < count;) {
      const page = Number(at / bigPage);
      const from = Number(at % bigPage);
      const n = Math.min(pageSize - from, count - done);
      visit(page, from, n, done);
      done += n;
      at += BigInt(n);
    }
  }

  function allZero(bytes: Uint8Array): boolean {
    for (let i = 0; i < bytes.length; i++) if (bytes[i] !== 0) return false;
    return true;
  }

  function store(buf: Uint8Array, offset: Offset, freeZeroPages: boolean): void {
    eachPiece(offset, buf.length, (page, from, n, done) => {
      let stored = pages.get(page);
      if (!stored) pages.set(page, stored = new Uint8Array(pageSize));
      stored.set(buf.subarray(done, done + n), from);
      if (freeZeroPages && allZero(stored)) pages.delete(page);
    });
  }

  return {
    kind: "reference",
    read(buf, offset) {
      eachPiece(offset, buf.length, (page, from, n, done) => {
        const stored = pages.get(page);
        if (stored) buf.set(stored.subarray(from, from + n), done);
        else buf.fill(0, done, done + n);
      });
    },
    write: (buf, offset) => store(buf, offset, false),
    copyIn: (buf, offset) => store(buf, offset, true),
    zero(count, offset) {
      eachPiece(offset, Number(count), (page, from, n) => {
        const stored = pages.get(page);
        if (!stored) return;
        stored.fill(0, from, from + n);
        if (n === pageSize || allZero(stored)) pages.delete(page);
      });
    },
    extents(count: Offset, offset: Offset, sink: ExtentSink) {
      // Page by page, the first from `offset`, to the end of the last page touched (at most
      // the disk's end); the sink merges neighbours of one type.
      const end = BigInt(offset) + BigInt(count);
      for (let at = BigInt(offset); at < end && at < size;) {
        const page = Number(at / bigPage);
        const next = (at / bigPage + 1n) * bigPage;
        const stored = pages.get(page);
        const type = !stored
          ? EXTENT.HOLE | EXTENT.ZERO
          : allZero(stored.subarray(Number(at % bigPage)))
          ? EXTENT.ZERO
          : EXTENT.DATA;
        sink.add(toOffset(at), Number((next < size ? next : size) - at), type);
        at = next;
      }
    },
    allocatedBytes: () => pages.size * pageSize,
  };
}
