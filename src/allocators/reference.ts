/**
 * The test oracle: the Allocator contract in the plainest TypeScript, a Map from page index to a
 * page of bytes, with exact BigInt arithmetic everywhere. It is slow, which is fine: it never
 * serves a disk, it only checks the sparse and malloc allocators.
 *
 * It keeps the invariant the sparse allocator keeps: a page is stored only while it holds a
 * non-zero byte, so its extents (data where a page is stored) are the ones sparse must report.
 */

import { toOffset } from "../api/parse.ts";
import { EXTENT, type ExtentSink, type Offset } from "../api/plugin.ts";
import type { Allocator } from "./allocator.ts";

export function createReferenceAllocator(size: bigint, pageSize = 4096): Allocator {
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

  function forgetIfZero(page: number): void {
    if (pages.get(page)?.every((byte) => byte === 0)) pages.delete(page);
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
    write(buf, offset) {
      eachPiece(offset, buf.length, (page, from, n, done) => {
        let stored = pages.get(page);
        if (!stored) pages.set(page, stored = new Uint8Array(pageSize));
        stored.set(buf.subarray(done, done + n), from);
        forgetIfZero(page);
      });
    },
    zero(count, offset) {
      eachPiece(offset, count, (page, from, n) => {
        pages.get(page)?.fill(0, from, from + n);
        forgetIfZero(page);
      });
    },
    extents(count: number, offset: Offset, sink: ExtentSink) {
      // Page by page to the end of the last page touched (at most the disk's end), merged.
      const start = BigInt(offset);
      const end = BigInt(offset) + BigInt(count);
      const stop = (end + bigPage - 1n) / bigPage * bigPage;
      let runStart = start;
      let runType = -1;
      for (let at = start; at < stop && at < size;) {
        const next = (at / bigPage + 1n) * bigPage;
        const type = pages.has(Number(at / bigPage)) ? EXTENT.DATA : EXTENT.HOLE | EXTENT.ZERO;
        if (runType !== -1 && type !== runType) {
          sink.add(toOffset(runStart), Number(at - runStart), runType);
          runStart = at;
        }
        runType = type;
        at = next;
      }
      if (runType !== -1) {
        const last = stop < size ? stop : size;
        sink.add(toOffset(runStart), Number(last - runStart), runType);
      }
    },
    allocatedBytes: () => pages.size * pageSize,
  };
}
