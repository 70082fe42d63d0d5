/**
 * The map of a sparse-random disk: one bit per 4096-byte block, set where the block holds data,
 * drawn from the seed exactly as nbdkit's plugins/sparse-random draws it, so the same seed gives
 * the same holes in the same places. Built once before serving; read-only afterwards.
 */

import { Xoshiro256 } from "../../api/xoshiro.ts";

/** The unit of data and holes (nbdkit's BLOCKSIZE). */
export const BLOCK_SIZE = 4096;

/** 2^64 as a double: what C's (double) UINT64_MAX rounds to. */
const TWO_64 = 18446744073709551616;

export interface MapShape {
  /** Share of the disk that holds data, 0 to 100 (nbdkit accepts NaN too: then no data). */
  readonly percent: number;
  /** Average length of a run of data blocks, in bytes. */
  readonly runLength: number;
  readonly seed: number;
}

export class SparseMap {
  /** Blocks in the disk; the last may be partial. */
  readonly blocks: number;
  private readonly bits: Uint8Array;

  /**
   * Draws the map of a disk of `size` bytes. Throws RangeError when the runtime cannot hold it
   * (nbdkit fails the same way, in realloc, for disks past a few hundred terabytes).
   */
  constructor(size: number, shape: MapShape) {
    this.blocks = Math.ceil(size / BLOCK_SIZE);
    this.bits = new Uint8Array(Math.ceil(this.blocks / 8));
    this.draw(shape);
  }

  isData(block: number): boolean {
    return (this.bits[block >>> 3] & (1 << (block & 7))) !== 0;
  }

  /** The first block at or after `block` whose state differs from `block`'s, at most `limit`. */
  runEnd(block: number, limit: number): number {
    const data = this.isData(block);
    const skip = data ? 0xff : 0x00; // a byte of eight blocks all in the same state
    let next = block + 1;
    while (next < limit) {
      if ((next & 7) === 0 && this.bits[next >>> 3] === skip) {
        next += 8;
      } else if (this.isData(next) === data) {
        next++;
      } else {
        break;
      }
    }
    return Math.min(next, limit);
  }

  /**
   * nbdkit's sparse_random_get_ready. Walking the blocks in order, the state is DATA or HOLE
   * (HOLE first); after each block it flips with probability P_dh (data to hole) or P_hd (hole
   * to data), which makes runs like real disk images have:
   *
   *     ◻◻◻◻◻◻◼◼◼◼◻◻◻◻◻◻◻◻◼◼◼◼◼◼◻◻◻◻◻◻◻◻◻◼◼◼◻◻◻◻◻◻◻◻◻◻◻◼◼◼◼◻◻◻      ◼ data  ◻ hole
   *
   * A run of data then lasts 1 / P_dh blocks on average, and the share of data is
   * P_hd / (P_hd + P_dh); solving both for the parameters gives the two lines below. Every
   * floating-point step is in nbdkit's order, so the thresholds are the same doubles.
   */
  private draw({ percent, runLength, seed }: MapShape): void {
    if (percent === 0) return;
    if (percent === 100) {
      this.bits.fill(0xff);
      return;
    }
    const pDataToHole = 1 / (runLength / BLOCK_SIZE);
    const pHoleToData = (percent / 100) * pDataToHole / (1 - percent / 100);
    // "flip when a uniform 64-bit draw is at most P · 2^64", compared in doubles as C does
    const dataToHole = pDataToHole * TWO_64;
    const holeToData = pHoleToData * TWO_64;

    const random = new Xoshiro256(seed);
    let data = false;
    for (let block = 0; block < this.blocks; block++) {
      if (data) this.bits[block >>> 3] |= 1 << (block & 7);
      if (random.next() <= (data ? dataToHole : holeToData)) data = !data;
    }
  }
}
