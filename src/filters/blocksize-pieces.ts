/**
 * The split paths of the blocksize filter (blocksize-handle.ts has the rest): a request the
 * layer below cannot take whole becomes pieces of at most maxdata (read, write, cache) or
 * maxlen (trim, zero) bytes, and an unaligned head or tail is read whole (reads), read, changed
 * and written back (writes, zeroes) or left out (trims), in the one bounce block every
 * connection shares. The lock is held alone for a partial block, shared for a whole-block
 * change, and not at all for reads and cache of whole blocks, as nbdkit's blocksize.c does.
 */

import type { NextHandle } from "../api/filter.ts";
import { addOffset, subtractOffset } from "../api/offset.ts";
import { FLAG, type MaybePromise, type Offset } from "../api/plugin.ts";
import { misalignment, roundDown, roundUp } from "./align.ts";
import type { RwLock } from "./rw-lock.ts";

/** A call of the layer below that changes data: writeAt, trim or zero. */
export type Change<A> = (
  this: NextHandle,
  what: A,
  offset: Offset,
  flags: number,
) => MaybePromise<void>;

/** One connection's limits, worked out when it is prepared. */
export interface BlockLimits {
  readonly minblock: number;
  /** Largest read, write or cache piece: a multiple of minblock. */
  readonly maxdata: number;
  /** Largest trim or zero piece: a multiple of minblock. */
  readonly maxlen: number;
  /** The layer below emulates FUA with a flush. */
  readonly fuaEmulated: boolean;
}

export class BlockPieces {
  private readonly below: NextHandle;
  private readonly lock: RwLock;
  /** The first minblock bytes of the shared bounce buffer. */
  private readonly block: Uint8Array;
  private readonly minblock: number;
  private readonly maxdata: number;
  private readonly maxlen: number;
  private readonly fuaEmulated: boolean;

  constructor(below: NextHandle, lock: RwLock, bounce: Uint8Array, limits: BlockLimits) {
    this.below = below;
    this.lock = lock;
    this.block = bounce.subarray(0, limits.minblock);
    this.minblock = limits.minblock;
    this.maxdata = limits.maxdata;
    this.maxlen = limits.maxlen;
    this.fuaEmulated = limits.fuaEmulated;
  }

  /** One piece of a split change, under the read side of the lock. */
  private async changePiece<A>(change: Change<A>, what: A, offset: Offset, flags: number) {
    await this.lock.read();
    try {
      await change.call(this.below, what, offset, flags);
    } finally {
      this.lock.releaseRead();
    }
  }

  /** Copies the bytes of the block at `at` from `start` into `into`, holding the lock alone. */
  private async readPart(at: Offset, start: number, into: Uint8Array): Promise<void> {
    await this.lock.write();
    try {
      await this.below.readAt(this.block, at);
      into.set(this.block.subarray(start, start + into.length));
    } finally {
      this.lock.releaseWrite();
    }
  }

  /**
   * Read-modify-write of the block at `at`, holding the lock alone: its bytes from `start`
   * become `data`, or `length` zeroes when there is no data.
   */
  private async rewritePart(
    at: Offset,
    start: number,
    data: Uint8Array | undefined,
    length: number,
    flags: number,
  ): Promise<void> {
    await this.lock.write();
    try {
      await this.below.readAt(this.block, at);
      if (data) this.block.set(data, start);
      else this.block.fill(0, start, start + length);
      await this.below.writeAt(this.block, at, flags & FLAG.FUA);
    } finally {
      this.lock.releaseWrite();
    }
  }

  async readPieces(buf: Uint8Array, offset: Offset): Promise<void> {
    const { minblock, maxdata } = this;
    const count = buf.length;
    let done = 0;
    const drop = misalignment(offset, minblock);
    if (drop !== 0) {
      done = Math.min(minblock - drop, count);
      await this.readPart(subtractOffset(offset, drop), drop, buf.subarray(0, done));
    }
    while (count - done >= minblock) {
      const keep = Math.min(maxdata, roundDown(count - done, minblock));
      await this.below.readAt(buf.subarray(done, done + keep), addOffset(offset, done));
      done += keep;
    }
    if (done < count) await this.readPart(addOffset(offset, done), 0, buf.subarray(done));
  }

  async writePieces(buf: Uint8Array, offset: Offset, flags: number): Promise<void> {
    const { minblock, maxdata } = this;
    const flush = this.flushesAfter(flags);
    if (flush) flags &= ~FLAG.FUA;
    const count = buf.length;
    let done = 0;
    const drop = misalignment(offset, minblock);
    if (drop !== 0) {
      done = Math.min(minblock - drop, count);
      const at = subtractOffset(offset, drop);
      await this.rewritePart(at, drop, buf.subarray(0, done), done, flags);
    }
    while (count - done >= minblock) {
      const keep = Math.min(maxdata, roundDown(count - done, minblock));
      const piece = buf.subarray(done, done + keep);
      await this.changePiece(this.below.writeAt, piece, addOffset(offset, done), flags);
      done += keep;
    }
    if (done < count) {
      await this.rewritePart(addOffset(offset, done), 0, buf.subarray(done), count - done, flags);
    }
    if (flush) await this.below.flush(0);
  }

  async zeroPieces(count: number, offset: Offset, flags: number): Promise<void> {
    const { minblock, maxlen } = this;
    const flush = this.flushesAfter(flags);
    if (flush) flags &= ~FLAG.FUA;
    let done = 0;
    const drop = misalignment(offset, minblock);
    if (drop !== 0) {
      done = Math.min(minblock - drop, count);
      await this.rewritePart(subtractOffset(offset, drop), drop, undefined, done, flags);
    }
    while (count - done >= minblock) {
      const keep = Math.min(maxlen, roundDown(count - done, minblock));
      await this.changePiece(this.below.zero, keep, addOffset(offset, done), flags);
      done += keep;
    }
    if (done < count) {
      await this.rewritePart(addOffset(offset, done), 0, undefined, count - done, flags);
    }
    if (flush) await this.below.flush(0);
  }

  /** Trims the whole blocks inside the range; partial blocks at either end are left alone. */
  async trimPieces(count: number, offset: Offset, flags: number): Promise<void> {
    const { minblock, maxlen } = this;
    const flush = this.flushesAfter(flags);
    if (flush) flags &= ~FLAG.FUA;
    const drop = misalignment(offset, minblock);
    const head = drop === 0 ? 0 : Math.min(minblock - drop, count);
    let at = addOffset(offset, head);
    for (let left = roundDown(count - head, minblock); left > 0;) {
      const keep = Math.min(maxlen, left);
      await this.changePiece(this.below.trim, keep, at, flags);
      at = addOffset(at, keep);
      left -= keep;
    }
    if (flush) await this.below.flush(0);
  }

  /** Caches whole blocks covering the range, at most maxdata bytes at a time. */
  async cachePieces(count: number, offset: Offset, flags: number): Promise<void> {
    const drop = misalignment(offset, this.minblock);
    let at = subtractOffset(offset, drop);
    for (let left = roundUp(count + drop, this.minblock); left > 0;) {
      const keep = Math.min(this.maxdata, left);
      await this.below.cache(keep, at, flags);
      at = addOffset(at, keep);
      left -= keep;
    }
  }

  /**
   * Whether a split FUA request goes down without FUA and ends with one flush: when the layer
   * below emulates FUA anyway, one flush for all the pieces instead of one each.
   */
  private flushesAfter(flags: number): boolean {
    return (flags & FLAG.FUA) !== 0 && this.fuaEmulated;
  }
}
