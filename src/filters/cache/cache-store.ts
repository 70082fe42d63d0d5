/**
 * The cache filter's cache, shared by every connection: blocks kept in WebAssembly memory
 * (kept-blocks.ts) with nbdkit's states, written back to the layer below on flush, and, under
 * cache-max-size=, reclaimed least recently used first once the cache reaches the high
 * threshold, until it is under the low one.
 *
 * Unlike nbdkit 1.32.5, whose reclaim punches dirty blocks out of its file and so loses writes
 * never flushed, a dirty block is written back before it is let go. A block being written back
 * is in state WRITING: it still reads from the cache, cannot be reclaimed, and a flush waits
 * for it; a write meanwhile makes it dirty again.
 */

import type { NextHandle } from "../../api/filter.ts";
import { isThenable } from "../../api/maybe-promise.ts";
import type { MaybePromise } from "../../api/plugin.ts";
import type { NextStates } from "../blocks/block-states.ts";
import { KEPT, KeptBlocks } from "../blocks/kept-blocks.ts";
import { Lru } from "./lru.ts";

/** Block states (nbdkit's: 0 not cached, 1 clean, 3 dirty; 2 is ours, being written back). */
export const CLEAN = KEPT;
export const WRITING = 2;
export const DIRTY = 3;

/** Writes kept for a later flush (writeback, unsafe): every block written becomes dirty. */
export const WRITTEN_BACK_LATER: NextStates = [DIRTY, DIRTY, DIRTY, DIRTY];
/** Writes already made below (writethrough, FUA): clean, unless the block held more news. */
export const WRITTEN_THROUGH: NextStates = [CLEAN, CLEAN, DIRTY, DIRTY];

export type CacheMode = "writeback" | "writethrough" | "unsafe";

/** cache-max-size= and its thresholds, as numbers of blocks. */
export interface CacheLimit {
  /** Reclaiming starts once this many blocks are cached. */
  readonly startBlocks: number;
  /** …and goes on until fewer than this many are. */
  readonly stopBlocks: number;
}

export class CacheStore {
  readonly kept: KeptBlocks;
  readonly mode: CacheMode;
  readonly #limit: CacheLimit | undefined;
  readonly #lru: Lru | undefined;
  /** Write-backs under way, which a flush waits for. */
  readonly #writing = new Set<Promise<void>>();
  #reclaiming = false;

  constructor(blockSize: number, mode: CacheMode, limit: CacheLimit | undefined) {
    this.kept = new KeptBlocks(blockSize);
    this.mode = mode;
    this.#limit = limit;
    if (limit !== undefined) {
      const lru = this.#lru = new Lru();
      this.kept.used = (first, count) => lru.touch(first, count);
    }
  }

  /** Blocks held in the cache now. */
  cachedBlocks(): number {
    const { states } = this.kept;
    return states.count(CLEAN) + states.count(WRITING) + states.count(DIRTY);
  }

  /**
   * Writes every dirty block back to `below`, waits for write-backs already under way, then
   * flushes `below`. A block that fails stays dirty; the others are still written, and the
   * first failure is thrown at the end, as nbdkit's cache_flush does.
   */
  async flush(below: NextHandle): Promise<void> {
    let failure: unknown;
    const buffer = new Uint8Array(this.kept.geometry.blockSize);
    for (const block of this.kept.states.blocksIn(DIRTY)) {
      if (this.kept.states.get(block) !== DIRTY) continue;
      await this.writeBack(below, block, buffer).catch((error) => failure ??= error);
    }
    await Promise.allSettled([...this.#writing]);
    await Promise.resolve(below.flush(0)).catch((error) => failure ??= error);
    if (failure !== undefined) throw failure;
  }

  /** Writes one dirty block back to `below` through `buffer` (a block long). */
  writeBack(below: NextHandle, block: number, buffer: Uint8Array): Promise<void> {
    const { geometry, states, store } = this.kept;
    const bytes = geometry.bytesOf(block);
    const view = bytes === buffer.length ? buffer : buffer.subarray(0, bytes);
    const start = geometry.startOf(block);
    store.read(view, start);
    states.set(block, WRITING);
    const done = settleWriteBack(this, block, below.writeAt(view, start, 0));
    this.#writing.add(done);
    return done.finally(() => this.#writing.delete(done));
  }

  /**
   * After a request added blocks: past the high threshold, lets least recently used blocks go
   * until under the low one. Clean blocks go at once; dirty ones are written back first (only
   * one reclaim does that at a time). A write-back that fails keeps its block, dirty, for the
   * next flush to report; the request that triggered the reclaim has succeeded already.
   */
  reclaim(below: NextHandle): MaybePromise<void> {
    const limit = this.#limit;
    if (limit === undefined || this.#reclaiming) return;
    let cached = this.cachedBlocks();
    if (cached < limit.startBlocks) return;
    const { states } = this.kept;
    const lru = this.#lru!;
    const dirty: number[] = [];
    for (const block of lru.oldestFirst()) {
      if (cached < limit.stopBlocks) break;
      const state = states.get(block);
      if (state === WRITING) continue;
      lru.forget(block);
      if (state === 0) continue;
      if (state === CLEAN) this.kept.drop(block, 1);
      else dirty.push(block);
      cached--;
    }
    if (dirty.length === 0) return;
    this.#reclaiming = true;
    return evictDirty(this, below, dirty, lru).finally(() => this.#reclaiming = false);
  }

  /** After a request: reclaims if needed, once `done` (the request) has succeeded. */
  after(done: MaybePromise<void>, below: NextHandle): MaybePromise<void> {
    if (this.#limit === undefined) return done;
    return isThenable(done) ? reclaimLater(this, done, below) : this.reclaim(below);
  }
}

async function settleWriteBack(
  cache: CacheStore,
  block: number,
  pending: MaybePromise<void>,
): Promise<void> {
  const { states } = cache.kept;
  try {
    await pending;
  } catch (error) {
    if (states.get(block) === WRITING) states.set(block, DIRTY);
    throw error;
  }
  if (states.get(block) === WRITING) states.set(block, CLEAN);
}

async function evictDirty(
  cache: CacheStore,
  below: NextHandle,
  blocks: readonly number[],
  lru: Lru,
): Promise<void> {
  const buffer = new Uint8Array(cache.kept.geometry.blockSize);
  for (const block of blocks) {
    if (cache.kept.states.get(block) !== DIRTY) continue;
    try {
      await cache.writeBack(below, block, buffer);
    } catch {
      lru.touch(block, 1); // kept, dirty: the next flush tries again and reports it
      continue;
    }
    if (cache.kept.states.get(block) === CLEAN) cache.kept.drop(block, 1);
  }
}

async function reclaimLater(
  cache: CacheStore,
  done: PromiseLike<void>,
  below: NextHandle,
): Promise<void> {
  await done;
  await cache.reclaim(below);
}
