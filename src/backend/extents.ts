/**
 * The extent list a plugin fills during BLOCK_STATUS, with nbdkit_add_extent's rules (ascending
 * and contiguous, clipped to [request offset, end of export), zero lengths dropped, neighbours
 * of one type merged, at most MAX_EXTENTS kept), and its conversion to block status descriptors.
 * Exact throughout: offsets are held as bigint here, which is cheap at one list per request.
 */

import { ERRNO, NbdError } from "../api/errors.ts";
import type { ExtentSink, Offset } from "../api/plugin.ts";
import { LIMITS } from "../protocol/limits.ts";
import { STATE } from "../protocol/constants.ts";

const U32_MAX = 0xffffffff;

export class ExtentList implements ExtentSink {
  readonly starts: bigint[] = [];
  readonly ends: bigint[] = [];
  readonly types: number[] = [];
  /** The request offset: the first kept extent is trimmed to start here. */
  private readonly start: bigint;
  private readonly end: bigint;
  /** Where the next extent must begin; undefined until the first one is added. */
  private next: bigint | undefined;

  constructor(start: Offset, exportSize: Offset) {
    this.start = BigInt(start);
    this.end = BigInt(exportSize);
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
    if (size === 0n || start >= this.end || this.types.length >= LIMITS.MAX_EXTENTS) return;
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

  /**
   * Descriptors for a request of `length` bytes at the list's start, as nbdkit builds them:
   * REQ_ONE gives one clipped to the request; otherwise extents up to the first that passes
   * the requested end (which may run past it). Lengths are capped at 2^32-1.
   */
  toDescriptors(length: number, reqOne: boolean): { lengths: number[]; statuses: number[] } {
    const lengths: number[] = [];
    const statuses: number[] = [];
    const requestEnd = this.start + BigInt(length);
    for (let i = 0; i < this.types.length; i++) {
      let size = this.ends[i] - this.starts[i];
      if (reqOne && size > BigInt(length)) size = BigInt(length);
      lengths.push(size > BigInt(U32_MAX) ? U32_MAX : Number(size));
      statuses.push(this.types[i] & (STATE.HOLE | STATE.ZERO));
      if (reqOne || this.starts[i] + size >= requestEnd) break;
    }
    return { lengths, statuses };
  }
}

function isInteger(value: unknown): value is Offset {
  return typeof value === "bigint" || Number.isInteger(value);
}
