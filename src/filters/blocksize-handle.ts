/**
 * One connection through the blocksize filter: its limits, worked out from the parameters and
 * the layer below when it is prepared; the size and block sizes it serves; and each request,
 * which passes straight down when the layer below can take it whole (whole blocks, not too
 * long) and is split by blocksize-pieces.ts otherwise. A write, trim or zero that passes
 * straight down shares the lock with its kind, taken with no promise made when it is free, so
 * the pass-through path allocates nothing of its own.
 */

import { ERRNO, NbdError } from "../api/errors.ts";
import type { FilterHandle, NextHandle } from "../api/filter.ts";
import { Extents } from "../api/extents.ts";
import { extentsAligned } from "../api/filter-extents.ts";
import { isThenable } from "../api/maybe-promise.ts";
import { addOffset, subtractOffset } from "../api/offset.ts";
import { toOffset } from "../api/parse.ts";
import {
  type BlockSize,
  type ExtentSink,
  FLAG,
  FUA_MODE,
  type MaybePromise,
  type Offset,
} from "../api/plugin.ts";
import { misalignment, roundDown, roundUp } from "./align.ts";
import { BlockPieces, type Change } from "./blocksize-pieces.ts";
import type { RwLock } from "./rw-lock.ts";

/** nbdkit's largest request, the default maxdata. */
const MAX_DATA = 64 * 1024 * 1024;
/** The largest length a 32-bit request can carry. */
const U32_LIMIT = 2 ** 32;
/** No maximum, in a block size. */
const NO_MAXIMUM = 0xffff_ffff;

/** The parameters as given: 0 where left out. */
export interface BlocksizeConfig {
  minblock: number;
  maxdata: number;
  maxlen: number;
}

/** What every connection of one filter shares: the lock and the bounce block it guards. */
export interface BlocksizeShared {
  readonly config: BlocksizeConfig;
  readonly lock: RwLock;
  /** Room for the largest minblock allowed. */
  readonly bounce: Uint8Array;
}

export class BlocksizeHandle implements FilterHandle {
  private readonly below: NextHandle;
  private readonly shared: BlocksizeShared;
  private readonly lock: RwLock;
  // Set by prepare, from the parameters and what the layer below says.
  private minblock = 1;
  private maxdata = MAX_DATA;
  private maxlen = U32_LIMIT - 1;
  /** The split paths, made by prepare. */
  private pieces!: BlockPieces;

  constructor(below: NextHandle, shared: BlocksizeShared) {
    this.below = below;
    this.shared = shared;
    this.lock = shared.lock;
  }

  async prepare(): Promise<void> {
    const { config } = this.shared;
    const { minimum = 0, maximum = 0 } = (await this.below.blockSize()) ?? {};
    const minblock = Math.max(config.minblock || 1, minimum);
    let maxdata = config.maxdata ||
      (config.maxlen ? Math.min(config.maxlen, MAX_DATA) : MAX_DATA);
    if (maximum) maxdata = Math.min(maxdata, maximum);
    this.maxdata = roundDown(maxdata, minblock);
    this.maxlen = config.maxlen ? roundDown(config.maxlen, minblock) : U32_LIMIT - minblock;
    this.minblock = minblock;
    if (this.maxdata === 0 || this.maxlen === 0) {
      // nbdkit would loop for ever on such a request; refuse the export instead.
      throw new NbdError(
        ERRNO.EINVAL,
        `blocksize: minblock ${minblock} is larger than maxdata or maxlen`,
      );
    }
    const fuaEmulated = (await this.below.canFua()) === FUA_MODE.EMULATE;
    this.pieces = new BlockPieces(this.below, this.lock, this.shared.bounce, {
      minblock,
      maxdata: this.maxdata,
      maxlen: this.maxlen,
      fuaEmulated,
    });
  }

  /** The size below, rounded down to whole blocks: the unaligned tail cannot be served safely. */
  async getSize(): Promise<Offset> {
    const size = BigInt(await this.below.getSize());
    return toOffset(size - size % BigInt(this.minblock));
  }

  /** Clients may send anything: advertise the widest sizes, preferring whole blocks. */
  async blockSize(): Promise<BlockSize> {
    const preferred = (await this.below.blockSize())?.preferred ?? 0;
    return {
      minimum: 1,
      preferred: Math.max(preferred, 4096, this.minblock),
      maximum: NO_MAXIMUM,
    };
  }

  readAt(buf: Uint8Array, offset: Offset): MaybePromise<void> {
    if (this.fits(offset, buf.length, this.maxdata)) return this.below.readAt(buf, offset);
    return this.pieces.readPieces(buf, offset);
  }

  writeAt(buf: Uint8Array, offset: Offset, flags: number): MaybePromise<void> {
    if (this.fits(offset, buf.length, this.maxdata) && this.lock.tryRead()) {
      return this.held(this.below.writeAt, buf, offset, flags);
    }
    return this.pieces.writePieces(buf, offset, flags);
  }

  trim(count: number, offset: Offset, flags: number): MaybePromise<void> {
    if (this.fits(offset, count, this.maxlen) && this.lock.tryRead()) {
      return this.held(this.below.trim, count, offset, flags);
    }
    return this.pieces.trimPieces(count, offset, flags);
  }

  zero(count: number, offset: Offset, flags: number): MaybePromise<void> {
    const fits = this.fits(offset, count, this.maxlen);
    if (!fits && (flags & FLAG.FAST_ZERO) !== 0) {
      // A split zero is not fast, and its failure would come late: decline at once (nbdkit).
      throw new NbdError(ERRNO.ENOTSUP, "blocksize: a fast zero must fit one request");
    }
    if (fits && this.lock.tryRead()) return this.held(this.below.zero, count, offset, flags);
    return this.pieces.zeroPieces(count, offset, flags);
  }

  cache(count: number, offset: Offset, flags: number): MaybePromise<void> {
    if (this.fits(offset, count, this.maxdata)) return this.below.cache(count, offset, flags);
    return this.pieces.cachePieces(count, offset, flags);
  }

  /**
   * Extents of whole blocks, asked for at most maxlen bytes from the block holding `offset`,
   * then clipped to the request's blocks (nbdkit_extents_aligned).
   */
  async extents(count: number, offset: Offset, flags: number, sink: ExtentSink): Promise<void> {
    const minblock = this.minblock;
    const start = subtractOffset(offset, misalignment(offset, minblock));
    const end = addOffset(offset, count);
    const over = misalignment(end, minblock);
    const aligned = new Extents(start, over === 0 ? end : addOffset(end, minblock - over));
    const asked = Math.min(roundUp(count, minblock), this.maxlen);
    await extentsAligned(this.below, asked, start, flags, minblock, aligned);
    for (let i = 0; i < aligned.count; i++) {
      const { offset: at, length, type } = aligned.get(i);
      sink.add(at, length, type);
    }
  }

  /** Whether a request is whole blocks, at most `limit` bytes: it passes straight down. */
  private fits(offset: Offset, count: number, limit: number): boolean {
    const minblock = this.minblock;
    return count <= limit && count % minblock === 0 && misalignment(offset, minblock) === 0;
  }

  /** Runs one change below with the read side of the lock, already taken, then lets it go. */
  private held<A>(change: Change<A>, what: A, offset: Offset, flags: number): MaybePromise<void> {
    let done;
    try {
      done = change.call(this.below, what, offset, flags);
    } catch (error) {
      this.lock.releaseRead();
      throw error;
    }
    if (isThenable(done)) return releaseReadAfter(done, this.lock);
    this.lock.releaseRead();
  }
}

/** Lets the read side of `lock` go once `done` settles, passing its outcome on. */
function releaseReadAfter(done: PromiseLike<void>, lock: RwLock): Promise<void> {
  return Promise.resolve(done).finally(() => lock.releaseRead());
}
