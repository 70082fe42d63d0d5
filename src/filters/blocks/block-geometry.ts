/**
 * Byte offsets of a disk as numbered blocks of one power-of-two size (4 KiB to 2 GiB) and back,
 * exactly up to 2^63-1: block numbers stay below 2^51, so they are plain numbers; only a byte
 * offset past 2^53 is worked out as a bigint, and only on that rare path.
 */

import type { Offset } from "../../api/plugin.ts";

export class BlockGeometry {
  readonly blockSize: number;
  readonly #bigBlockSize: bigint;
  /** The disk's size in bytes, set once the layer below is ready (prepare). */
  size: Offset = 0;

  constructor(blockSize: number) {
    this.blockSize = blockSize;
    this.#bigBlockSize = BigInt(blockSize);
  }

  /** The block holding byte `offset`. */
  blockOf(offset: Offset): number {
    return typeof offset === "number"
      ? Math.floor(offset / this.blockSize)
      : Number(offset / this.#bigBlockSize);
  }

  /** Where byte `offset` lies in its block. */
  inBlock(offset: Offset): number {
    return typeof offset === "number"
      ? offset % this.blockSize
      : Number(offset % this.#bigBlockSize);
  }

  /** The first byte of block `block`. */
  startOf(block: number): Offset {
    const start = block * this.blockSize;
    return Number.isSafeInteger(start) ? start : BigInt(block) * this.#bigBlockSize;
  }

  /** How many bytes of block `block` lie on the disk: the block size, less at the end. */
  bytesOf(block: number): number {
    const size = this.size;
    if (typeof size === "number") return Math.min(this.blockSize, size - block * this.blockSize);
    const left = size - BigInt(block) * this.#bigBlockSize;
    return left < this.#bigBlockSize ? Number(left) : this.blockSize;
  }

  /** How many blocks the disk has, the last one maybe short. */
  blockCount(): number {
    return Number((BigInt(this.size) + this.#bigBlockSize - 1n) / this.#bigBlockSize);
  }
}
