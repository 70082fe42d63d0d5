/**
 * The extent list the plugin fills during BLOCK_STATUS (an `Extents`, with nbdkit_add_extent's
 * rules, clipped to [request offset, end of export) and capped at MAX_EXTENTS), and its
 * conversion to block status descriptors.
 */

import { Extents } from "../api/extents.ts";
import type { Offset } from "../api/plugin.ts";
import { LIMITS } from "../protocol/limits.ts";
import { STATE } from "../protocol/constants.ts";

const U32_MAX = 0xffffffff;

export class ExtentList extends Extents {
  constructor(start: Offset, exportSize: Offset) {
    super(start, exportSize, LIMITS.MAX_EXTENTS);
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
