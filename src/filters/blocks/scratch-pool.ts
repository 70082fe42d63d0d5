/**
 * Block-sized buffers lent to requests that must read a whole block from the layer below before
 * changing part of it, and given back when done: a request that finishes at once takes and
 * returns the same buffer, so steady traffic allocates none. A buffer is lent to one request at
 * a time, so requests waiting on the layer below each hold their own.
 */

/** Buffers kept for reuse at most; more are left to the collector. */
const MAX_KEPT = 64;

export class ScratchPool {
  readonly #size: number;
  readonly #free: Uint8Array[] = [];

  constructor(size: number) {
    this.#size = size;
  }

  take(): Uint8Array {
    return this.#free.pop() ?? new Uint8Array(this.#size);
  }

  give(buffer: Uint8Array): void {
    if (this.#free.length < MAX_KEPT) this.#free.push(buffer);
  }
}
