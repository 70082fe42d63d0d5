/**
 * The cache's blocks in order of last use, least recent first, so that reclaiming frees the
 * blocks used longest ago. A Map keeps insertion order: a use deletes the block and adds it
 * again at the end. nbdkit approximates this with two bitmaps (filters/cache/lru.c); this is
 * exact, and is only kept when cache-max-size= is set.
 */

export class Lru {
  readonly #order = new Map<number, true>();

  /** Blocks first … first+count-1 were used just now. */
  touch(first: number, count: number): void {
    const order = this.#order;
    for (let block = first; block < first + count; block++) {
      order.delete(block);
      order.set(block, true);
    }
  }

  forget(block: number): void {
    this.#order.delete(block);
  }

  /** The blocks from least to most recently used; forgetting the current one is safe. */
  oldestFirst(): IterableIterator<number> {
    return this.#order.keys();
  }
}
