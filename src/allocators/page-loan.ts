/**
 * A READ lent from the sparse allocator's pages (Allocator.lend): the views a reply sends, and
 * the pinned runs of pages behind them, which release() unpins once. Holes are views of one
 * shared zero buffer that nothing ever writes.
 *
 * A pinned page is never freed (a zero or trim fills it with zeroes instead), so its memory
 * never holds another offset's bytes while the reply is queued. Views of WASM memory stay valid
 * only because lending is refused for memory that can grow (Hotpath.fixed).
 */

import type { ReadViews } from "../api/plugin.ts";
import { type Hotpath, PAGE_SIZE } from "../wasm/hotpath.ts";

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
