/**
 * allocator=sparse: a disk of up to 2^63-1 bytes kept as 4 KiB pages in WebAssembly memory
 * (assembly/layout.ts draws the directory), spread over more instances (shards) when one is full.
 *
 * Bytes are copied once, between the caller's Uint8Array and the page, through a view of memory
 * taken after the call that may have grown it. No BigInt on the way unless an offset is past 2^53.
 * When no shard can take a page, a write fails with NbdError("ENOSPC"), never a crash.
 *
 * This file is the operations on the disk; shards.ts finds pages among the shards,
 * page-loan.ts lends them to READ replies and page-placement.ts to WRITE payloads, and
 * page-extents.ts reports them as nbdkit's 32 KiB pages (zero-pages.ts: those that hold only
 * zeroes written by a client).
 */

import type { ExtentSink, Offset } from "../api/plugin.ts";
import { toOffset } from "../api/parse.ts";
import { addOffset, compareOffsets } from "../api/offset.ts";
import { type Hotpath, MAX_SHARD_BYTES, PAGE_MODE, PAGE_SIZE } from "../wasm/hotpath.ts";
import type { Allocator, Placement } from "./allocator.ts";
import { lendPages, type PageLoan } from "./page-loan.ts";
import { type PagedDisk, reportExtents, upToBigPage } from "./page-extents.ts";
import { BIG_PAGE_SIZE, inPageOf, pageOf } from "./page-offsets.ts";
import { placePages, releasePlacement } from "./page-placement.ts";
import { Shards, type SparseOptions } from "./shards.ts";
import { NBDKIT_PAGE_SIZE, ZeroPages } from "./zero-pages.ts";

export type { SparseOptions };

/** The sparse allocator, plus what tests and --dump-plugin may ask about its memory. */
export interface SparseAllocator extends Allocator {
  /** Instances in use. */
  shardCount(): number;
  /** Bytes of WebAssembly memory held, including directory and free pages. */
  memoryBytes(): number;
  place(count: number, offset: Offset): Placement | undefined;
  release(placement: Placement, written?: boolean): void;
  lend(count: number, offset: Offset): PageLoan | undefined;
}

export function createSparseAllocator(size: bigint, options: SparseOptions = {}): SparseAllocator {
  return new SparseArray(size, { shardBytes: shardBytesFor(size), ...options });
}

/**
 * The memory a shard is made with for a disk of `size` bytes: room for every page of the disk
 * (a page is never held twice: a pinned page that is trimmed stays, zeroed, in place) with its
 * directory (a 2 KiB table per 2 MiB and the L1 list, under 1/512 of the disk even with every
 * table's alignment gap) and 1 MiB to spare; at most MAX_SHARD_BYTES, beyond which shards are
 * added. The memory is reserved at full size from the start, and a reservation of gigabytes
 * costs V8 a garbage collection for "external memory pressure" (about 4 ms on Node and Deno):
 * a small disk need not pay for one.
 */
export function shardBytesFor(size: bigint): number {
  const bytes = size + size / 256n + 1024n * 1024n;
  return bytes >= BigInt(MAX_SHARD_BYTES) ? MAX_SHARD_BYTES : Number(bytes);
}

/** Our pages per nbdkit page. */
const PER = NBDKIT_PAGE_SIZE / PAGE_SIZE;

class SparseArray implements SparseAllocator, PagedDisk {
  readonly kind = "sparse";
  readonly shards: Shards;
  readonly zeroPages = new ZeroPages();
  readonly size: Offset;
  readonly endPage: number;
  /** Pages afterWrite freed (zeroes written) since the last write() began. */
  #freed = 0;
  /**
   * The run write() has placed but not yet copied: pages one after another in one shard's
   * memory, from page #pendingPage at #pendingPtr; #pendingLength bytes of the caller's buffer
   * from #pendingFrom go to address #pendingAt.
   */
  #pending: Hotpath | undefined;
  #pendingPage = 0;
  #pendingPtr = 0;
  #pendingFrom = 0;
  #pendingAt = 0;
  #pendingLength = 0;

  constructor(size: bigint, options: SparseOptions) {
    this.shards = new Shards(options);
    this.size = toOffset(size);
    this.endPage = upToBigPage(Number((size + BIG_PAGE_SIZE - 1n) / BIG_PAGE_SIZE));
  }

  read(buf: Uint8Array, offset: Offset): void {
    const shards = this.shards;
    let page = pageOf(offset);
    let from = inPageOf(offset);
    const limit = page + Math.ceil((from + buf.length) / PAGE_SIZE);
    for (let done = 0; done < buf.length; from = 0) {
      const shard = shards.find(page);
      if (shard) {
        const ptr = shards.found;
        const pages = shard.exports.pageRun(page, ptr, limit - page); // one copy for the run
        const n = Math.min(pages * PAGE_SIZE - from, buf.length - done);
        buf.set(shard.heap().subarray(ptr + from, ptr + from + n), done);
        done += n;
        page += pages;
      } else {
        const end = shards.holeEnd(page, limit); // one fill for the hole
        const n = Math.min((end - page) * PAGE_SIZE - from, buf.length - done);
        buf.fill(0, done, done + n);
        done += n;
        page = end;
      }
    }
  }

  write(buf: Uint8Array, offset: Offset): void {
    const shards = this.shards;
    let page = pageOf(offset);
    let from = inPageOf(offset);
    this.#pending = undefined;
    this.#freed = 0;
    for (let done = 0; done < buf.length; page++, from = 0) {
      const n = Math.min(PAGE_SIZE - from, buf.length - done);
      const mode = n === PAGE_SIZE ? PAGE_MODE.OVERWRITE : PAGE_MODE.CREATE;
      let shard = shards.place(page, mode);
      if (!shard) {
        this.#flush(buf); // what is placed must be written before we may fail
        if (isAllZero(buf.subarray(done, done + n))) { // needs no room: it reads as zero already
          done += n;
          this.#freed++;
          continue;
        }
        shard = shards.placeInNewShard(page, mode);
      }
      const at = shards.found + from;
      if (shard !== this.#pending || at !== this.#pendingAt + this.#pendingLength) {
        this.#flush(buf);
        this.#pending = shard;
        this.#pendingPage = page;
        this.#pendingPtr = shards.found;
        this.#pendingFrom = done;
        this.#pendingAt = at;
        this.#pendingLength = 0;
      }
      this.#pendingLength += n; // the page follows the pending run in memory: extend the run
      done += n;
    }
    this.#flush(buf);
    if (this.#freed > 0) this.#noteZeroes(pageOf(offset), page);
  }

  /** Copies the pending run of pages from `buf` in one call, then lets WASM free zero pages. */
  #flush(buf: Uint8Array): void {
    const shard = this.#pending;
    if (!shard) return;
    const from = this.#pendingFrom;
    shard.heap().set(buf.subarray(from, from + this.#pendingLength), this.#pendingAt);
    const inPage = this.#pendingAt - this.#pendingPtr;
    this.#freed += shard.exports.afterWrite(
      this.#pendingPage,
      this.#pendingPtr,
      inPage,
      this.#pendingLength,
    );
    this.#pending = undefined;
  }

  zero(count: Offset, offset: Offset): void {
    if (compareOffsets(count, 0) <= 0) return;
    const shards = this.shards.list;
    const first = pageOf(offset);
    const from = inPageOf(offset);
    // Page numbers stay below 2^51, exact as numbers, even for a count of 2^63 - 1.
    const end = addOffset(offset, count);
    const endPage = pageOf(end);
    const endIn = inPageOf(end);
    if (first === endPage) {
      for (const shard of shards) shard.exports.zeroInPage(first, from, endIn - from);
    } else {
      let page = first;
      if (from !== 0) {
        for (const shard of shards) shard.exports.zeroInPage(page, from, PAGE_SIZE - from);
        page++;
      }
      if (endPage > page) { for (const shard of shards) shard.exports.freePages(page, endPage); }
      if (endIn > 0) { for (const shard of shards) shard.exports.zeroInPage(endPage, 0, endIn); }
    }
    // nbdkit's sparse_array_zero frees each page it touches that it leaves all zero; one it
    // does not leave all zero holds data. Either way it is no zero page now.
    if (!this.zeroPages.empty) {
      const last = endPage + (endIn > 0 ? 1 : 0);
      this.zeroPages.delete(Math.floor(first / PER), upToBigPage(last) / PER);
    }
  }

  /**
   * Zeroes were written to pages [first, end): the nbdkit pages among them that hold none of
   * ours now are zero pages, which nbdkit's sparse_array_write allocates and keeps.
   */
  #noteZeroes(first: number, end: number): void {
    const shards = this.shards;
    let run = -1; // first zero page of the run being gathered
    const last = upToBigPage(end);
    for (let page = first - (first % PER); page <= last; page += PER) {
      const zero = page < last && shards.firstPresent(page, page + PER) >= page + PER;
      if (zero && run < 0) run = page;
      if (!zero && run >= 0) {
        this.zeroPages.add(run / PER, page / PER);
        run = -1;
      }
    }
  }

  extents(count: Offset, offset: Offset, sink: ExtentSink): void {
    reportExtents(this, count, offset, sink);
  }

  /** Room for a payload received in place (page-placement.ts). */
  place(count: number, offset: Offset): Placement | undefined {
    return placePages(this.shards, count, offset);
  }

  /**
   * A payload that came is a write. One that never came (`written` false) was never written for
   * nbdkit, yet what arrived is in place: the pages end as if copied in, as nbdkit's blit copies
   * (a page left all zero is a hole), so that what they report and what they hold agree.
   */
  release(placement: Placement, written = true): void {
    const { first, end, freed } = releasePlacement(placement);
    if (!written) this.zeroPages.delete(Math.floor(first / PER), upToBigPage(end) / PER);
    else if (freed > 0) this.#noteZeroes(first, end);
  }

  /** The bytes at [offset, offset+count) as views of pinned pages (page-loan.ts). */
  lend(count: number, offset: Offset): PageLoan | undefined {
    return lendPages(this.shards, count, offset);
  }

  allocatedBytes(): number {
    let pages = 0;
    for (const shard of this.shards.list) pages += shard.exports.allocatedPages();
    return pages * PAGE_SIZE;
  }

  shardCount(): number {
    return this.shards.list.length;
  }

  memoryBytes(): number {
    let bytes = 0;
    for (const shard of this.shards.list) bytes += shard.exports.memoryBytes() >>> 0;
    return bytes;
  }
}

/** The slow check, used only when every shard is full and we must know if a write needs room. */
function isAllZero(data: Uint8Array): boolean {
  for (let i = 0; i < data.length; i++) if (data[i] !== 0) return false;
  return true;
}
