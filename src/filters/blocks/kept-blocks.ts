/**
 * Whole blocks of the layer below kept in a WebAssembly page store, each with a state (nbdkit's
 * blk.c of the cow and cache filters, with memory where nbdkit has a temporary file): the cow
 * filter's overlay and the cache filter's cache. One store serves every connection; each request
 * brings the NextHandle of its own connection.
 *
 * The rule everything here keeps: a block in any state but 0 is kept, and then the store holds
 * what the block reads as; a block in state 0 reads as the layer below. State 1 is a block kept
 * as it is below (filled, or kept as read); owners give other states their own meaning.
 *
 * A request that touches only kept blocks, or whole blocks, runs synchronously and allocates
 * nothing. A write that covers part of a block not kept first reads that block from below (at
 * most two: the first and the last of the request). When the layer below answers later, the
 * request goes on in a separate async function, and every state is looked at again there:
 * another request may have changed the block meanwhile, and what is kept always wins over what
 * was read below, which keeps concurrent requests in some order without any lock.
 */

import type { NextHandle } from "../../api/filter.ts";
import { isThenable } from "../../api/maybe-promise.ts";
import { addOffset, bytesBefore, compareOffsets, subtractOffset } from "../../api/offset.ts";
import type { MaybePromise, Offset, ReadViews } from "../../api/plugin.ts";
import type { Allocator } from "../../allocators/allocator.ts";
import { createSparseAllocator } from "../../allocators/sparse.ts";
import { BlockGeometry } from "./block-geometry.ts";
import { BlockStates, type NextStates } from "./block-states.ts";
import { changeLater, copyLater, keepLater, readLater } from "./kept-blocks-later.ts";
import { ScratchPool } from "./scratch-pool.ts";

/**
 * Most pieces a READ is lent in. Blocks kept in the order clients first touched them lie
 * scattered in memory, and runtimes write each lent piece of 16 KiB or more with a call of its
 * own: 1 MiB reads of an overlay first written at random went out at 0.39 GiB/s lent in up to
 * 16 pieces on Deno, 2.73 GiB/s copied (fio, qd8); in at most 4 pieces lending is the faster.
 */
const MAX_LENT_VIEWS = 4;

/** The state of a block kept as the layer below holds it. */
export const KEPT = 1;

const MAX_DISK = (1n << 63n) - 1n;

export class KeptBlocks {
  readonly geometry: BlockGeometry;
  readonly states = new BlockStates();
  readonly store: Allocator = createSparseAllocator(MAX_DISK);
  /** Told of every run of blocks a request used or kept (the cache's LRU); optional. */
  used: ((first: number, count: number) => void) | undefined;
  readonly #scratch: ScratchPool;

  constructor(blockSize: number) {
    this.geometry = new BlockGeometry(blockSize);
    this.#scratch = new ScratchPool(blockSize);
  }

  /**
   * Fills `buf` with the bytes at `offset`: kept blocks from the store, the others from `below`,
   * asked for just the bytes wanted; with `keep`, those are read as whole blocks and kept (1).
   */
  read(below: NextHandle, buf: Uint8Array, offset: Offset, keep: boolean): MaybePromise<void> {
    const { geometry, states } = this;
    const count = buf.length;
    const last = geometry.blockOf(addOffset(offset, count - 1));
    for (let done = 0; done < count;) {
      const at = done === 0 ? offset : addOffset(offset, done);
      const block = geometry.blockOf(at);
      const run = states.runLength(block, last + 1);
      const n = bytesBefore(at, count - done, geometry.startOf(block + run));
      const view = n === count ? buf : buf.subarray(done, done + n);
      done += n;
      if (states.get(block) !== 0) {
        this.store.read(view, at);
        this.used?.(block, run);
        continue;
      }
      const pending = keep
        ? this.#readKeeping(below, view, at, block, run)
        : below.readAt(view, at);
      if (isThenable(pending)) return readLater(this, below, buf, offset, done, keep, pending);
    }
  }

  /**
   * The bytes at `offset` as views of the store's own pages (Allocator.lend), when every block
   * they touch is kept and the pages lie in a few runs; else undefined, and the caller reads.
   * Only for owners that never drop blocks: a dropped block's pinned pages would show zeroes,
   * not what lies below.
   */
  lend(count: number, offset: Offset): ReadViews | undefined {
    const { geometry, states } = this;
    const first = geometry.blockOf(offset);
    const end = geometry.blockOf(addOffset(offset, count - 1)) + 1;
    if (states.get(first) === 0 || states.runLength(first, end) !== end - first) return undefined;
    const loan = this.store.lend?.(count, offset);
    if (loan === undefined || loan.views.length <= MAX_LENT_VIEWS) return loan;
    loan.release(); // scattered pages: one copy costs less than a write per piece
    return undefined;
  }

  /** Writes `buf` at `offset` into the store; each block touched becomes `next[its state]`. */
  write(below: NextHandle, buf: Uint8Array, offset: Offset, next: NextStates): MaybePromise<void> {
    return this.change(below, buf, buf.length, offset, next);
  }

  /** Makes `count` bytes at `offset` read as zero in the store, as write() does. */
  zero(below: NextHandle, count: number, offset: Offset, next: NextStates): MaybePromise<void> {
    return this.change(below, undefined, count, offset, next);
  }

  /**
   * Writes `buf` (zeroes when undefined) over `count` bytes at `offset`; each block touched
   * becomes `next[its state]`. The first and last blocks, when only partly covered and not
   * kept, are read from below first.
   */
  change(
    below: NextHandle,
    buf: Uint8Array | undefined,
    count: number,
    offset: Offset,
    next: NextStates,
  ): MaybePromise<void> {
    const { geometry, states } = this;
    const end = addOffset(offset, count);
    const first = geometry.blockOf(offset);
    const last = geometry.blockOf(subtractOffset(end, 1));
    const headCut = geometry.inBlock(offset) !== 0;
    const tailCut = geometry.inBlock(end) !== 0 && compareOffsets(end, geometry.size) < 0;
    const fillFirst = (headCut || (tailCut && first === last)) && states.get(first) === 0;
    const fillLast = tailCut && last !== first && states.get(last) === 0;
    if (fillFirst || fillLast) {
      return fillThenChange(this, below, fillFirst, buf, count, offset, next);
    }
    if (buf === undefined) this.store.zero(count, offset);
    else this.store.write(buf, offset);
    for (let block = first; block <= last; block++) states.set(block, next[states.get(block)]);
    this.used?.(first, last - first + 1);
  }

  /**
   * Reads `count` blocks from `first` from below and keeps each one still not kept once the
   * read is done: a cache request, or cow-on-cache.
   */
  fillRun(below: NextHandle, first: number, count: number): MaybePromise<void> {
    const { geometry } = this;
    const start = geometry.startOf(first);
    const bytes = bytesBefore(start, count * geometry.blockSize, geometry.size);
    const data = count === 1 ? this.#scratch.take() : new Uint8Array(bytes);
    const view = data.length === bytes ? data : data.subarray(0, bytes);
    let pending: MaybePromise<void>;
    try {
      pending = below.readAt(view, start);
    } catch (error) {
      if (count === 1) this.#scratch.give(data);
      throw error;
    }
    const scratch = count === 1 ? data : undefined;
    if (isThenable(pending)) return keepLater(this, pending, view, first, count, scratch);
    this.keepRun(view, first, count);
    if (scratch !== undefined) this.#scratch.give(scratch);
  }

  /**
   * Keeps `data`, the bytes of `count` blocks from `first` as read from below, for each block
   * that is not kept by now (a request that changed one meanwhile knows better).
   */
  keepRun(data: Uint8Array, first: number, count: number): void {
    const { geometry, states } = this;
    let all = true;
    for (let block = first; block < first + count && all; block++) all = states.get(block) === 0;
    if (all) {
      this.store.write(data, geometry.startOf(first));
      states.setRun(first, count, KEPT);
    } else {
      for (let i = 0; i < count; i++) {
        if (states.get(first + i) !== 0) continue;
        const from = i * geometry.blockSize;
        const piece = data.subarray(from, Math.min(data.length, from + geometry.blockSize));
        this.store.write(piece, geometry.startOf(first + i));
        states.set(first + i, KEPT);
      }
    }
    this.used?.(first, count);
  }

  /** Forgets `count` blocks from `first`: they read as below again, and free their memory. */
  drop(first: number, count: number): void {
    const { geometry, states } = this;
    for (let block = first; block < first + count; block++) {
      if (states.get(block) === 0) continue;
      this.store.zero(geometry.bytesOf(block), geometry.startOf(block));
      states.set(block, 0);
    }
  }

  /** Returns a block lent by fillRun, once its read below is done. */
  giveScratch(buffer: Uint8Array): void {
    this.#scratch.give(buffer);
  }

  /**
   * Reads the run of `run` blocks from `block`, none kept, as whole blocks, keeps them, and
   * copies the part at `at` into `view`.
   */
  #readKeeping(
    below: NextHandle,
    view: Uint8Array,
    at: Offset,
    block: number,
    run: number,
  ): MaybePromise<void> {
    const { geometry } = this;
    const start = geometry.startOf(block);
    const bytes = bytesBefore(start, run * geometry.blockSize, geometry.size);
    if (compareOffsets(at, start) === 0 && view.length === bytes) {
      const pending = below.readAt(view, at);
      if (isThenable(pending)) return keepLater(this, pending, view, block, run, undefined);
      this.keepRun(view, block, run);
      return;
    }
    const data = new Uint8Array(bytes);
    const pending = below.readAt(data, start);
    const from = Number(subtractOffset(at, start));
    if (isThenable(pending)) return copyLater(this, pending, data, block, run, view, from);
    this.keepRun(data, block, run);
    view.set(data.subarray(from, from + view.length));
  }
}

/**
 * Reads the first (or else the last) block of a change from below and keeps it, then makes the
 * change, which fills the other end too if it still needs it.
 */
function fillThenChange(
  kept: KeptBlocks,
  below: NextHandle,
  fillFirst: boolean,
  buf: Uint8Array | undefined,
  count: number,
  offset: Offset,
  next: NextStates,
): MaybePromise<void> {
  const { geometry } = kept;
  const at = fillFirst ? offset : subtractOffset(addOffset(offset, count), 1);
  const pending = kept.fillRun(below, geometry.blockOf(at), 1);
  if (isThenable(pending)) {
    return changeLater(kept, below, pending, buf, count, offset, next);
  }
  return kept.change(below, buf, count, offset, next);
}
