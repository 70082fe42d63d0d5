/**
 * allocator=sparse: a disk of up to 2^63-1 bytes kept as 4 KiB pages in WebAssembly memory
 * (assembly/layout.ts draws the directory), spread over more instances (shards) when one is full.
 *
 * Bytes are copied once, between the caller's Uint8Array and the page, through a view of memory
 * taken after the call that may have grown it. No BigInt on the way unless an offset is past 2^53.
 * When no shard can take a page, a write fails with NbdError("ENOSPC"), never a crash.
 */

import { ERRNO, NbdError } from "../api/errors.ts";
import { EXTENT, type ExtentSink, type Offset } from "../api/plugin.ts";
import { toOffset } from "../api/parse.ts";
import {
  createHotpath,
  type Hotpath,
  MAX_SHARD_BYTES,
  PAGE_MODE,
  PAGE_SIZE,
} from "../wasm/hotpath.ts";
import type { Allocator, Placement } from "./allocator.ts";
import { PageLoan } from "./page-loan.ts";

export interface SparseOptions {
  /** Bytes of memory each shard may grow to; default and most: 4 GiB less 64 KiB. */
  shardBytes?: number;
  /** Most shards; default: no limit but what the runtime will give. */
  maxShards?: number;
}

/** The sparse allocator, plus what tests and --dump-plugin may ask about its memory. */
export interface SparseAllocator extends Allocator {
  /** Instances in use. */
  shardCount(): number;
  /** Bytes of WebAssembly memory held, including directory and free pages. */
  memoryBytes(): number;
  place(count: number, offset: Offset): Placement | undefined;
  release(placement: Placement): void;
  lend(count: number, offset: Offset): PageLoan | undefined;
}

const BIG_PAGE_SIZE = BigInt(PAGE_SIZE);
/** The last page whose byte offset is still a safe integer. */
const MAX_SAFE_PAGE = Math.floor(Number.MAX_SAFE_INTEGER / PAGE_SIZE);

export function createSparseAllocator(size: bigint, options: SparseOptions = {}): SparseAllocator {
  return new SparseArray(size, options);
}

class SparseArray implements SparseAllocator {
  readonly kind = "sparse";
  readonly #shards: Hotpath[] = [];
  readonly #shardBytes: number;
  readonly #maxShards: number;
  readonly #size: Offset;
  readonly #sizePages: number;
  /** Every shard's memory has its full size: views of it stay valid (see lend and place). */
  #fixed = true;
  /** The page address the last find() or place() found, in the shard it returned. */
  #found = 0;
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
    this.#shardBytes = Math.min(options.shardBytes ?? MAX_SHARD_BYTES, MAX_SHARD_BYTES);
    this.#maxShards = options.maxShards ?? Infinity;
    this.#size = toOffset(size);
    this.#sizePages = Number((size + BIG_PAGE_SIZE - 1n) / BIG_PAGE_SIZE);
    this.#addShard();
  }

  read(buf: Uint8Array, offset: Offset): void {
    let page = pageOf(offset);
    let from = inPageOf(offset);
    const limit = page + Math.ceil((from + buf.length) / PAGE_SIZE);
    for (let done = 0; done < buf.length; from = 0) {
      const shard = this.#find(page);
      if (shard) {
        const ptr = this.#found;
        const pages = shard.exports.pageRun(page, ptr, limit - page); // one copy for the run
        const n = Math.min(pages * PAGE_SIZE - from, buf.length - done);
        buf.set(shard.heap().subarray(ptr + from, ptr + from + n), done);
        done += n;
        page += pages;
      } else {
        const end = this.#holeEnd(page, limit); // one fill for the hole
        const n = Math.min((end - page) * PAGE_SIZE - from, buf.length - done);
        buf.fill(0, done, done + n);
        done += n;
        page = end;
      }
    }
  }

  write(buf: Uint8Array, offset: Offset): void {
    let page = pageOf(offset);
    let from = inPageOf(offset);
    this.#pending = undefined;
    for (let done = 0; done < buf.length; page++, from = 0) {
      const n = Math.min(PAGE_SIZE - from, buf.length - done);
      const mode = n === PAGE_SIZE ? PAGE_MODE.OVERWRITE : PAGE_MODE.CREATE;
      let shard = this.#place(page, mode);
      if (!shard) {
        this.#flush(buf); // what is placed must be written before we may fail
        if (isAllZero(buf.subarray(done, done + n))) { // needs no room: it reads as zero already
          done += n;
          continue;
        }
        shard = this.#placeInNewShard(page, mode);
      }
      const at = this.#found + from;
      if (shard !== this.#pending || at !== this.#pendingAt + this.#pendingLength) {
        this.#flush(buf);
        this.#pending = shard;
        this.#pendingPage = page;
        this.#pendingPtr = this.#found;
        this.#pendingFrom = done;
        this.#pendingAt = at;
        this.#pendingLength = 0;
      }
      this.#pendingLength += n; // the page follows the pending run in memory: extend the run
      done += n;
    }
    this.#flush(buf);
  }

  /** Copies the pending run of pages from `buf` in one call, then lets WASM free zero pages. */
  #flush(buf: Uint8Array): void {
    const shard = this.#pending;
    if (!shard) return;
    const from = this.#pendingFrom;
    shard.heap().set(buf.subarray(from, from + this.#pendingLength), this.#pendingAt);
    const inPage = this.#pendingAt - this.#pendingPtr;
    shard.exports.afterWrite(this.#pendingPage, this.#pendingPtr, inPage, this.#pendingLength);
    this.#pending = undefined;
  }

  zero(count: number, offset: Offset): void {
    if (count <= 0) return;
    let page = pageOf(offset);
    const from = inPageOf(offset);
    let rest = count;
    if (from !== 0 || count < PAGE_SIZE) {
      const n = Math.min(PAGE_SIZE - from, count);
      for (const shard of this.#shards) shard.exports.zeroInPage(page, from, n);
      rest -= n;
      page++;
    }
    const whole = Math.floor(rest / PAGE_SIZE);
    if (whole > 0) {
      for (const shard of this.#shards) shard.exports.freePages(page, page + whole);
      page += whole;
    }
    const tail = rest - whole * PAGE_SIZE;
    if (tail > 0) { for (const shard of this.#shards) shard.exports.zeroInPage(page, 0, tail); }
  }

  extents(count: number, offset: Offset, sink: ExtentSink): void {
    if (count <= 0) return;
    const first = pageOf(offset);
    const limit = Math.min(
      first + Math.ceil((inPageOf(offset) + count) / PAGE_SIZE),
      this.#sizePages,
    );
    let start = offset;
    for (let page = first; page < limit;) {
      const data = this.#find(page) !== undefined;
      const end = data ? this.#dataEnd(page, limit) : this.#holeEnd(page, limit);
      const stop = end >= this.#sizePages ? this.#size : byteOf(end);
      sink.add(start, distance(start, stop), data ? EXTENT.DATA : EXTENT.HOLE | EXTENT.ZERO);
      start = stop;
      page = end;
    }
  }

  /**
   * Room for a payload received in place: a run of pinned pages in one shard whose memory never
   * grows (a view of memory that grows goes stale; with more than one shard a page could live in
   * any of them, and such disks are rare: they use write()).
   */
  place(count: number, offset: Offset): Placement | undefined {
    if (this.#shards.length !== 1 || count <= 0 || !this.#shards[0].fixed) return undefined;
    const shard = this.#shards[0];
    const page = pageOf(offset);
    const from = inPageOf(offset);
    const pages = Math.ceil((from + count) / PAGE_SIZE);
    const ptr = shard.exports.placeRun(page, pages) >>> 0;
    if (ptr === 0) return undefined;
    const view = shard.heap().subarray(ptr + from, ptr + from + count);
    return new PagePlacement(view, shard, page, ptr, from);
  }

  release(placement: Placement): void {
    const { shard, page, ptr, from, view } = placement as PagePlacement;
    shard.exports.settleRun(page, ptr, from, view.length); // unpins, frees pages left all zero
  }

  /**
   * The bytes at [offset, offset+count) as views: each run of pages that lie one after another
   * in memory becomes one view, pinned until the loan's release(); each hole a view of zeroes.
   * Undefined when memory may grow, or when a page is pinned as often as its slot can count
   * (the caller then copies with read(): a count never wraps).
   */
  lend(count: number, offset: Offset): PageLoan | undefined {
    if (count <= 0 || !this.#fixed) return undefined;
    let page = pageOf(offset);
    let from = inPageOf(offset);
    const limit = page + Math.ceil((from + count) / PAGE_SIZE);
    const loan = new PageLoan();
    for (let done = 0; done < count; from = 0) {
      const shard = this.#find(page);
      let n: number;
      if (shard) {
        const ptr = this.#found;
        const pages = shard.exports.pageRun(page, ptr, limit - page);
        if (shard.exports.pinPages(page, pages) === 0) {
          loan.release();
          return undefined;
        }
        n = Math.min(pages * PAGE_SIZE - from, count - done);
        loan.addRun(shard, page, ptr, pages, from, n);
        page += pages;
      } else {
        const end = this.#holeEnd(page, limit);
        n = Math.min((end - page) * PAGE_SIZE - from, count - done);
        loan.addHole(n);
        page = end;
      }
      done += n;
    }
    return loan;
  }

  allocatedBytes(): number {
    let pages = 0;
    for (const shard of this.#shards) pages += shard.exports.allocatedPages();
    return pages * PAGE_SIZE;
  }

  shardCount(): number {
    return this.#shards.length;
  }

  memoryBytes(): number {
    let bytes = 0;
    for (const shard of this.#shards) bytes += shard.exports.memoryBytes() >>> 0;
    return bytes;
  }

  /** The shard holding `page` (its address in #found), or undefined when it reads as zero. */
  #find(page: number): Hotpath | undefined {
    for (const shard of this.#shards) {
      const ptr = shard.exports.pageFor(page, PAGE_MODE.LOOKUP) >>> 0;
      if (ptr !== 0) {
        this.#found = ptr;
        return shard;
      }
    }
    return undefined;
  }

  /** The shard to write `page` in, creating the page where there is room (address in #found). */
  #place(page: number, mode: number): Hotpath | undefined {
    const shards = this.#shards;
    if (shards.length > 1) {
      const holder = this.#find(page); // a page lives in one shard only: look before creating
      if (holder) return holder;
    }
    for (const shard of shards) {
      const ptr = shard.exports.pageFor(page, mode) >>> 0;
      if (ptr !== 0) {
        this.#found = ptr;
        return shard;
      }
    }
    return undefined;
  }

  /** Every shard is full: creates `page` in a new one, or fails with ENOSPC. */
  #placeInNewShard(page: number, mode: number): Hotpath {
    const shard = this.#addShard();
    this.#found = shard.exports.pageFor(page, mode) >>> 0;
    if (this.#found === 0) {
      this.#shards.pop(); // the runtime gave an instance but no memory: don't pile them up
      throw new NbdError(ERRNO.ENOSPC, "Cannot store data: a new shard has no room");
    }
    return shard;
  }

  /** The end of the hole at `page`: the nearest present page in any shard, at most `limit`. */
  #holeEnd(page: number, limit: number): number {
    let end = limit;
    for (const shard of this.#shards) end = Math.min(end, shard.exports.presenceEnd(page, end));
    return end;
  }

  /** The end of the data run at `page`, which may continue from one shard into another. */
  #dataEnd(page: number, limit: number): number {
    let end = page;
    for (let shard = this.#find(end); shard && end < limit; shard = this.#find(end)) {
      end = shard.exports.presenceEnd(end, limit);
    }
    return end;
  }

  #addShard(): Hotpath {
    if (this.#shards.length >= this.#maxShards) {
      throw new NbdError(ERRNO.ENOSPC, `Cannot store data: all ${this.#maxShards} shards are full`);
    }
    let shard: Hotpath;
    try {
      shard = createHotpath({ maxBytes: this.#shardBytes });
    } catch (error) {
      throw new NbdError(ERRNO.ENOSPC, `Cannot store data: no memory for a new shard: ${error}`);
    }
    this.#shards.push(shard);
    this.#fixed &&= shard.fixed;
    return shard;
  }
}

/** Pinned pages from `page`, at `ptr` in `shard`; the view starts `from` bytes in. */
class PagePlacement implements Placement {
  readonly view: Uint8Array;
  readonly shard: Hotpath;
  readonly page: number;
  readonly ptr: number;
  readonly from: number;

  constructor(view: Uint8Array, shard: Hotpath, page: number, ptr: number, from: number) {
    this.view = view;
    this.shard = shard;
    this.page = page;
    this.ptr = ptr;
    this.from = from;
  }
}

function pageOf(offset: Offset): number {
  return typeof offset === "number"
    ? Math.floor(offset / PAGE_SIZE)
    : Number(offset / BIG_PAGE_SIZE);
}

function inPageOf(offset: Offset): number {
  return typeof offset === "number" ? offset % PAGE_SIZE : Number(offset % BIG_PAGE_SIZE);
}

/** The byte offset of a page: a number while safe, else a bigint. */
function byteOf(page: number): Offset {
  return page <= MAX_SAFE_PAGE ? page * PAGE_SIZE : BigInt(page) * BIG_PAGE_SIZE;
}

/** stop - start, for the short spans extents() reports. */
function distance(start: Offset, stop: Offset): number {
  if (typeof start === "number" && typeof stop === "number") return stop - start;
  return Number(BigInt(stop) - BigInt(start));
}

/** The slow check, used only when every shard is full and we must know if a write needs room. */
function isAllZero(data: Uint8Array): boolean {
  for (let i = 0; i < data.length; i++) if (data[i] !== 0) return false;
  return true;
}
