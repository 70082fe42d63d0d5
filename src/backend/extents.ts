/**
 * The extent list the plugin fills during BLOCK_STATUS (an `Extents`, with nbdkit_add_extent's
 * rules, clipped to [request offset, end of export) and capped, at MAX_EXTENTS unless told), and its
 * conversion to block status descriptors.
 */

import { Extents } from "../api/extents.ts";
import { toOffset } from "../api/parse.ts";
import type { Offset } from "../api/plugin.ts";
import { LIMITS } from "../protocol/limits.ts";
import { STATE } from "../protocol/constants.ts";

const U32_MAX = 0xffffffff;

export class ExtentList extends Extents {
  constructor(start: Offset, exportSize: Offset, maxExtents: number = LIMITS.MAX_EXTENTS) {
    super(start, exportSize, maxExtents);
  }

  /**
   * Descriptors for a request of `length` bytes at the list's start, as nbdkit builds them:
   * REQ_ONE gives one clipped to the request; otherwise extents up to the first that passes
   * the requested end (which may run past it). Compact lengths are capped at 2^32-1; extended
   * ones (BLOCK_STATUS_EXT) are exact.
   */
  toDescriptors(
    length: Offset,
    reqOne: boolean,
    extended = false,
  ): { lengths: Offset[]; statuses: number[] } {
    const lengths: Offset[] = [];
    const statuses: number[] = [];
    const asked = BigInt(length);
    const requestEnd = this.start + asked;
    for (let i = 0; i < this.types.length; i++) {
      let size = this.ends[i] - this.starts[i];
      if (reqOne && size > asked) size = asked;
      if (extended) lengths.push(toOffset(size));
      else lengths.push(size > BigInt(U32_MAX) ? U32_MAX : Number(size));
      statuses.push(this.types[i] & (STATE.HOLE | STATE.ZERO));
      if (reqOne || this.starts[i] + size >= requestEnd) break;
    }
    return { lengths, statuses };
  }
}
