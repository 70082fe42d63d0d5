/**
 * A small state (0 to 3) for every block of a disk of up to 2^63-1 bytes, as nbdkit's cow and
 * cache filters keep two bits per block: 0 means the block is not kept, and is what every block
 * starts as. Blocks are held in pages of 4096 states, made on the first non-zero state and
 * dropped when they hold only zeroes again, so a huge disk costs only what was touched; counts
 * per state (overall and per page) let a caller size the cache and skip pages quickly.
 *
 *   pages: Map(page number → Page)      page n holds blocks n·4096 … n·4096+4095
 *   Page:  states  [s0 s1 s2 … s4095]   one byte per block
 *          counts  [#0 #1 #2 #3]        how many of its blocks are in each state
 */

/**
 * What a change makes of each block it touches: the new state, indexed by the old one (a
 * constant table, so choosing costs nothing per request).
 */
export type NextStates = readonly [number, number, number, number];

/** Blocks per page: one page of states describes 256 MiB of a disk of 64 KiB blocks. */
const PAGE_BLOCKS = 4096;

interface Page {
  readonly states: Uint8Array;
  readonly counts: Int32Array;
}

export class BlockStates {
  readonly #pages = new Map<number, Page>();
  /** How many blocks are in each state, except 0 (the rest of the disk). */
  readonly #counts = new Float64Array(4);
  /** The page last looked up (undefined: it has none), so a request costs one lookup a page. */
  #lastNumber = -1;
  #last: Page | undefined;

  /** The state of block `block` (an integer below 2^52). */
  get(block: number): number {
    const number = Math.floor(block / PAGE_BLOCKS);
    const page = number === this.#lastNumber ? this.#last : this.#find(number);
    return page === undefined ? 0 : page.states[block - number * PAGE_BLOCKS];
  }

  set(block: number, state: number): void {
    const number = Math.floor(block / PAGE_BLOCKS);
    let page = number === this.#lastNumber ? this.#last : this.#find(number);
    if (page === undefined) {
      if (state === 0) return;
      page = { states: new Uint8Array(PAGE_BLOCKS), counts: new Int32Array(4) };
      page.counts[0] = PAGE_BLOCKS;
      this.#pages.set(number, page);
      this.#lastNumber = number;
      this.#last = page;
    }
    const index = block - number * PAGE_BLOCKS;
    const old = page.states[index];
    if (old === state) return;
    page.states[index] = state;
    page.counts[old]--;
    page.counts[state]++;
    this.#counts[old]--;
    this.#counts[state]++;
    if (page.counts[0] === PAGE_BLOCKS) {
      this.#pages.delete(number);
      this.#last = undefined;
    }
  }

  /** Sets `count` blocks from `first` to `state`. */
  setRun(first: number, count: number, state: number): void {
    for (let block = first; block < first + count; block++) this.set(block, state);
  }

  /**
   * How many blocks from `first` (at most up to `limit`, excluded) are kept alike: all in state
   * 0, or all in some other state. At least 1 when first < limit.
   */
  runLength(first: number, limit: number): number {
    const kept = this.get(first) !== 0;
    let block = first + 1;
    while (block < limit && (this.get(block) !== 0) === kept) block++;
    return block - first;
  }

  /** How many blocks of the disk are in `state` (1 to 3). */
  count(state: number): number {
    return this.#counts[state];
  }

  /** Every block in `state` (1 to 3), in ascending order, as they are when it is called. */
  blocksIn(state: number): number[] {
    const found: number[] = [];
    const numbers = [...this.#pages.keys()].sort((a, b) => a - b);
    for (const number of numbers) {
      const page = this.#pages.get(number)!;
      if (page.counts[state] === 0) continue;
      for (let index = 0; index < PAGE_BLOCKS; index++) {
        if (page.states[index] === state) found.push(number * PAGE_BLOCKS + index);
      }
    }
    return found;
  }

  #find(number: number): Page | undefined {
    const page = this.#pages.get(number);
    this.#lastNumber = number;
    this.#last = page;
    return page;
  }
}
