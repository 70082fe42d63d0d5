/**
 * The shards of one sparse disk (sparse.ts), and where a page is among them: each shard is a
 * WebAssembly instance holding its own page directory (assembly/layout.ts draws it), a page
 * lives in one shard only, and a new shard is added when every one is full.
 *
 * Lookups answer the shard and leave the page's address in `found`, so that the loops of
 * sparse.ts, page-loan.ts and page-placement.ts allocate nothing per page.
 */

import { ERRNO, NbdError } from "../api/errors.ts";
import { createHotpath, type Hotpath, MAX_SHARD_BYTES, PAGE_MODE } from "../wasm/hotpath.ts";

export interface SparseOptions {
  /** Bytes of memory each shard may grow to; default and most: 4 GiB less 64 KiB. */
  shardBytes?: number;
  /** Most shards; default: no limit but what the runtime will give. */
  maxShards?: number;
}

export class Shards {
  /** Every shard, oldest first; only this class adds to it. */
  readonly list: Hotpath[] = [];
  /** Every shard's memory has its full size: views of it stay valid (see lendPages). */
  fixed = true;
  /** The page address the last find() or place() found, in the shard it returned. */
  found = 0;
  readonly #shardBytes: number;
  readonly #maxShards: number;

  constructor(options: SparseOptions) {
    this.#shardBytes = Math.min(options.shardBytes ?? MAX_SHARD_BYTES, MAX_SHARD_BYTES);
    this.#maxShards = options.maxShards ?? Infinity;
    this.#add();
  }

  /** The shard holding `page` (its address in found), or undefined when it reads as zero. */
  find(page: number): Hotpath | undefined {
    for (const shard of this.list) {
      const ptr = shard.exports.pageFor(page, PAGE_MODE.LOOKUP) >>> 0;
      if (ptr !== 0) {
        this.found = ptr;
        return shard;
      }
    }
    return undefined;
  }

  /** The shard to write `page` in, creating the page where there is room (address in found). */
  place(page: number, mode: number): Hotpath | undefined {
    const shards = this.list;
    if (shards.length > 1) {
      const holder = this.find(page); // a page lives in one shard only: look before creating
      if (holder) return holder;
    }
    for (const shard of shards) {
      const ptr = shard.exports.pageFor(page, mode) >>> 0;
      if (ptr !== 0) {
        this.found = ptr;
        return shard;
      }
    }
    return undefined;
  }

  /** Every shard is full: creates `page` in a new one, or fails with ENOSPC. */
  placeInNewShard(page: number, mode: number): Hotpath {
    const shard = this.#add();
    this.found = shard.exports.pageFor(page, mode) >>> 0;
    if (this.found === 0) {
      this.list.pop(); // the runtime gave an instance but no memory: don't pile them up
      throw new NbdError(ERRNO.ENOSPC, "Cannot store data: a new shard has no room");
    }
    return shard;
  }

  /** The end of the hole at `page`: the nearest present page in any shard, at most `limit`. */
  holeEnd(page: number, limit: number): number {
    let end = limit;
    for (const shard of this.list) end = Math.min(end, shard.exports.presenceEnd(page, end));
    return end;
  }

  /** The first page at or after `page` that holds data, or `limit` if none is before it. */
  firstPresent(page: number, limit: number): number {
    if (page >= limit) return limit;
    return this.find(page) ? page : this.holeEnd(page, limit);
  }

  /** The end of the data run at `page`, which may continue from one shard into another. */
  dataEnd(page: number, limit: number): number {
    let end = page;
    for (let shard = this.find(end); shard && end < limit; shard = this.find(end)) {
      end = shard.exports.presenceEnd(end, limit);
    }
    return end;
  }

  #add(): Hotpath {
    if (this.list.length >= this.#maxShards) {
      throw new NbdError(ERRNO.ENOSPC, `Cannot store data: all ${this.#maxShards} shards are full`);
    }
    let shard: Hotpath;
    try {
      shard = createHotpath({ maxBytes: this.#shardBytes });
    } catch (error) {
      throw new NbdError(ERRNO.ENOSPC, `Cannot store data: no memory for a new shard: ${error}`);
    }
    this.list.push(shard);
    this.fixed &&= shard.fixed;
    return shard;
  }
}
