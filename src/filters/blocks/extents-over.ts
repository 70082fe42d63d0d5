/**
 * Block status of a disk with kept blocks laid over the layer below (nbdkit's cow_extents): a
 * block whose state decides its type is reported whole as that type; runs of the other blocks
 * are asked of the layer below in one go (as much as it answers, up to 4 GiB a time), or, when
 * it has no extents, reported as data. The request is rounded out to whole blocks; the list it
 * fills drops what lies before the request.
 */

import type { NextHandle } from "../../api/filter.ts";
import { extentsFull } from "../../api/filter-extents.ts";
import { addOffset, bytesBefore, subtractOffset } from "../../api/offset.ts";
import { toOffset } from "../../api/parse.ts";
import { EXTENT, type ExtentSink, FLAG, type Offset } from "../../api/plugin.ts";
import type { KeptBlocks } from "./kept-blocks.ts";

/** In a table of types by state: ask the layer below. */
export const ASK_BELOW = -1;

/** The most bytes asked of the layer below at once (nbdkit's 32-bit range). */
const MAX_ASK = 2 ** 32;

/**
 * Reports [offset, offset+count) into `sink`; `types[state]` is the extent type of a block in
 * that state, or ASK_BELOW.
 */
export async function extentsOver(
  kept: KeptBlocks,
  below: NextHandle,
  count: number,
  offset: Offset,
  flags: number,
  sink: ExtentSink,
  types: readonly number[],
): Promise<void> {
  const { geometry, states } = kept;
  const canExtents = await below.canExtents();
  const most = Math.floor(MAX_ASK / geometry.blockSize) - 1;
  const end = geometry.blockOf(subtractOffset(addOffset(offset, count), 1)) + 1;
  for (let block = geometry.blockOf(offset); block < end;) {
    const type = types[states.get(block)];
    const start = geometry.startOf(block);
    if (type !== ASK_BELOW || !canExtents) {
      sink.add(start, geometry.bytesOf(block), type === ASK_BELOW ? EXTENT.DATA : type);
      block++;
    } else {
      let run = 1;
      while (block + run < end && run < most && types[states.get(block + run)] === ASK_BELOW) {
        run++;
      }
      const bytes = bytesBefore(start, run * geometry.blockSize, geometry.size);
      const found = await extentsFull(below, bytes, start, flags);
      for (let i = 0; i < found.count; i++) {
        const from = found.starts[i];
        sink.add(toOffset(from), toOffset(found.ends[i] - from), found.types[i]);
      }
      block += run;
    }
    // The first block holds `offset`, so what was just added reaches into the request.
    if (flags & FLAG.REQ_ONE) return;
  }
}
