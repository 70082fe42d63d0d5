/**
 * The xz filter's cache of decoded blocks, one per connection (nbdkit's blkcache.c): the most
 * recently used first, at most `depth` of them. A block pushed out lends its memory to the next
 * one decoded when it is big enough, so a connection reading through a file of equal blocks
 * allocates only `depth` buffers.
 */

/** A decoded block: bytes `start` to `start + size` of the expansion, in `data`. */
export interface CachedBlock {
  start: number;
  size: number;
  /** At least `size` bytes long; its first `size` are the block's. */
  data: Uint8Array;
}

export class BlockCache {
  readonly #depth: number;
  readonly #blocks: CachedBlock[] = [];
  hits = 0;
  misses = 0;

  constructor(depth: number) {
    this.#depth = depth;
  }

  /** The block holding `offset`, now the most recently used, or undefined. */
  find(offset: number): CachedBlock | undefined {
    const blocks = this.#blocks;
    for (let i = 0; i < blocks.length; i++) {
      const block = blocks[i];
      if (block.start <= offset && offset < block.start + block.size) {
        if (i > 0) {
          blocks.copyWithin(1, 0, i);
          blocks[0] = block;
        }
        this.hits++;
        return block;
      }
    }
    this.misses++;
    return undefined;
  }

  /**
   * Room for a block of `size` bytes: when the cache is full its least recently used block
   * leaves, and its memory is reused if big enough.
   */
  room(size: number): Uint8Array {
    const evicted = this.#blocks.length === this.#depth ? this.#blocks.pop() : undefined;
    return evicted && evicted.data.length >= size ? evicted.data : new Uint8Array(size);
  }

  /** Keeps a decoded block as the most recently used. */
  put(block: CachedBlock): void {
    if (this.#blocks.length === this.#depth) this.#blocks.pop();
    this.#blocks.unshift(block);
  }
}
