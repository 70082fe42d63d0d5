/**
 * The block sizes a filter that works in blocks advertises (nbdkit's cow_block_size and
 * cache_block_size): with none from the layer below, any request, its own block preferred;
 * else the layer below's, its own block preferred where the maximum allows it.
 */

import type { BlockSize } from "../../api/plugin.ts";

export function withPreferred(below: BlockSize | undefined, block: number): BlockSize {
  if (below === undefined || below.minimum === 0) {
    return { minimum: 1, preferred: block, maximum: 0xffffffff };
  }
  if (below.maximum < block) return below;
  return { ...below, preferred: Math.max(below.preferred, block) };
}
