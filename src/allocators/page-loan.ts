/**
 * A READ lent from the sparse allocator's pages (Allocator.lend): the views a reply sends, and
 * the pinned runs of pages behind them, which release() unpins once. Holes are views of one
 * shared zero buffer that nothing ever writes. lendPages() makes the loan.
 *
 * A pinned page is never freed (a zero or trim fills it with zeroes instead), so its memory
 * never holds another offset's bytes while the reply is queued. Views of WASM memory stay valid
 * only because lending is refused for memory that can grow (Hotpath.fixed).
 */

import type { Offset, ReadViews } from "../api/plugin.ts";
import { type Hotpath, PAGE_SIZE } from "../wasm/hotpath.ts";
import { inPageOf, pageOf } from "./page-offsets.ts";
import type { Shards } from "./shards.ts";

/** Shared by every hole of every loan, and never written: a larger hole takes several views. */
const ZEROES = new Uint8Array(1024 * 1024);

export class PageLoan implements ReadViews {
  readonly views: Uint8Array[] = [];
  /** Pinned run i: `count` pages from `page`, at `ptr` in `shard`; `data` is what it sends. */
  readonly #shards: Hotpath[] = [];
  readonly #pages: number[] = [];
  readonly #ptrs: number[] = [];
  readonly #counts: number[] = [];
  readonly #data: Uint8Array[] = [];
  #released = false;

  /** Adds a run of `count` pinned pages at `ptr`, sending `length` bytes from `from` in it. */
  addRun(shard: Hotpath, page: number, ptr: number, count: number, from: number, length: number) {
    const view = shard.heap().subarray(ptr + from, ptr + from + length);
    this.views.push(view);
    this.#shards.push(shard);
    this.#pages.push(page);
    this.#ptrs.push(ptr);
    this.#counts.push(count);
    this.#data.push(view);
  }

  /** Adds `length` bytes of zeroes. */
  addHole(length: number): void {
    for (let done = 0; done < length; done += ZEROES.length) {
      this.views.push(ZEROES.subarray(0, Math.min(ZEROES.length, length - done)));
    }
  }

  /** Whether every byte is zero: holes are; runs get WASM's SIMD scan, which stops early. */
  isAllZero(): boolean {
    for (let i = 0; i < this.#data.length; i++) {
      const view = this.#data[i];
      if (!this.#shards[i].exports.isZero(view.byteOffset, view.length)) return false;
    }
    return true;
  }

  /** Unpins every run (once), freeing pages a zero or trim left all zero meanwhile. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    for (let i = 0; i < this.#shards.length; i++) {
      this.#shards[i].exports.settleRun(
        this.#pages[i],
        this.#ptrs[i],
        0,
        this.#counts[i] * PAGE_SIZE,
      );
    }
  }
}

/**
 * The bytes at [offset, offset+count) as views: each run of pages that lie one after another
 * in memory becomes one view, pinned until the loan's release(); each hole a view of zeroes.
 * Undefined when memory may grow, or when a page is pinned as often as its slot can count
 * (the caller then copies with read(): a count never wraps).
 */
export function lendPages(shards: Shards, count: number, offset: Offset): PageLoan | undefined {
  if (count <= 0 || !shards.fixed) return undefined;
  let page = pageOf(offset);
  let from = inPageOf(offset);
  const limit = page + Math.ceil((from + count) / PAGE_SIZE);
  const loan = new PageLoan();
  for (let done = 0; done < count; from = 0) {
    const shard = shards.find(page);
    let n: number;
    if (shard) {
      const ptr = shards.found;
      const pages = shard.exports.pageRun(page, ptr, limit - page);
      if (shard.exports.pinPages(page, pages) === 0) {
        loan.release();
        return undefined;
      }
      n = Math.min(pages * PAGE_SIZE - from, count - done);
      loan.addRun(shard, page, ptr, pages, from, n);
      page += pages;
    } else {
      const end = shards.holeEnd(page, limit);
      n = Math.min((end - page) * PAGE_SIZE - from, count - done);
      loan.addHole(n);
      page = end;
    }
    done += n;
  }
  return loan;
}
