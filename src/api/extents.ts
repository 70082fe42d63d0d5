/**
 * A list of extents with nbdkit_add_extent's rules (nbdkit_extents_new, _count, get_extent):
 * extents are added in ascending, contiguous order; those before `start` or at or past `end`
 * are dropped, the first is trimmed to begin at `start` and the last clipped at `end`, zero
 * lengths are ignored, neighbours of one type merge, and at most `maxExtents` are kept. The
 * server fills one per BLOCK_STATUS; a filter makes its own to read what the layer below
 * reports before passing it on, moved or changed. Exact throughout: offsets are held as bigint,
 * which is cheap at one list per request.
 */

import { ERRNO, NbdError } from "./errors.ts";
import { toOffset } from "./parse.ts";
import type { ExtentSink, Offset } from "./plugin.ts";

/** One extent as a filter reads it back: `type` holds EXTENT bits. */
export interface Extent {
  readonly offset: Offset;
  readonly length: Offset;
  readonly type: number;
}

/** nbdkit's cap on one list (server/extents.c, MAX_EXTENTS). */
const MAX_EXTENTS = 1024 * 1024;
const MAX_OFFSET = (1n << 63n) - 1n;

export class Extents implements ExtentSink {
  readonly starts: bigint[] = [];
  readonly ends: bigint[] = [];
  readonly types: number[] = [];
  /** The first byte described: the first kept extent is trimmed to start here. */
  readonly start: bigint;
  /** One past the last byte described. */
  readonly end: bigint;
  private readonly maxExtents: number;
  /** Where the next extent must begin; undefined until the first one is added. */
  private next: bigint | undefined;

  /** An empty list describing [start, end), as nbdkit_extents_new: start ≤ end ≤ 2^63-1. */
  constructor(start: Offset, end: Offset, maxExtents = MAX_EXTENTS) {
    this.start = BigInt(start);
    this.end = BigInt(end);
    if (this.start < 0n || this.end > MAX_OFFSET || this.start > this.end) {
      throw new NbdError(
        ERRNO.ERANGE,
        `cannot make an extent list from ${start} to ${end}: expected 0 ≤ start ≤ end ≤ 2^63-1`,
      );
    }
    this.maxExtents = maxExtents;
  }

  /** How many extents are kept (nbdkit_extents_count). */
  get count(): number {
    return this.types.length;
  }

  /** The i'th extent kept, in order (nbdkit_get_extent). */
  get(i: number): Extent {
    if (!(i >= 0 && i < this.types.length)) {
      throw new RangeError(`Cannot get extent ${i}: the list has ${this.types.length}`);
    }
    const offset = this.starts[i];
    return {
      offset: toOffset(offset),
      length: toOffset(this.ends[i] - offset),
      type: this.types[i],
    };
  }

  add(offset: Offset, length: Offset, type: number): void {
    // BigInt() would take "5" or 5.0 as 5; a plugin passing strings has a bug worth naming.
    if (!isInteger(offset) || !isInteger(length) || !Number.isInteger(type) || type < 0) {
      throw new TypeError(
        `extents: add(${offset}, ${length}, ${type}) needs integer offset and length ` +
          "(number or bigint) and an EXTENT type",
      );
    }
    let start = BigInt(offset);
    const size = BigInt(length);
    if (size < 0n) throw new NbdError(ERRNO.EINVAL, "extent length must not be negative");
    if (this.next !== undefined && this.next !== start) {
      throw new NbdError(
        ERRNO.ERANGE,
        "extents must be added in ascending order and be contiguous",
      );
    }
    this.next = start + size;
    if (size === 0n || start >= this.end || this.types.length >= this.maxExtents) return;
    const end = start + size > this.end ? this.end : start + size;
    if (this.types.length === 0) {
      if (end <= this.start) return; // wholly before the request
      if (start > this.start) {
        throw new NbdError(ERRNO.ERANGE, `first extent must not be > start (${this.start})`);
      }
      start = this.start;
    }
    const last = this.types.length - 1;
    if (last >= 0 && this.types[last] === type) {
      this.ends[last] = end;
      return;
    }
    this.starts.push(start);
    this.ends.push(end);
    this.types.push(type);
  }
}

function isInteger(value: unknown): value is Offset {
  return typeof value === "bigint" || Number.isInteger(value);
}
