/**
 * How the evil filter corrupts a buffer it read (nbdkit's filters/evil): within a block of
 * `blockSize` bytes, a generator seeded for that block picks the distance to the next corrupt
 * bit, uniformly in [0, 2/P) bits, again and again, and each pick that falls inside the
 * buffer flips that bit or sticks it high or low; above P = 1/8 every bit is corrupted. Two
 * draws per pick, used or not, so the same block always gets the same bits. Bit for bit
 * nbdkit's, with its generator (api/xoshiro.ts).
 */

import type { Xoshiro256 } from "../api/xoshiro.ts";

/** Below this a probability is none at all. */
export const EPSILON = 1e-12;
/** Above this every bit is corrupted: the picks could not make progress. */
export const MAXP = 1 / 8;

export type Corruption = "flip" | "stuck";

export interface Odds {
  /** P: how likely a bit is corrupted. */
  readonly probability: number;
  /** How likely a stuck bit reads as stuck rather than as it is. */
  readonly stuck: number;
}

/**
 * Corrupts `buf`, which starts `offsetInBlock` bytes into a block whose generator is
 * `random` (fresh for the block; for cosmic rays, the one shared generator).
 */
export function corrupt(
  buf: Uint8Array,
  offsetInBlock: number,
  random: Xoshiro256,
  kind: Corruption,
  odds: Odds,
): void {
  if (odds.probability < EPSILON) return;
  if (odds.probability > MAXP) {
    for (let i = 0; i < buf.length; i++) {
      let byte = buf[i];
      for (let bit = 0; bit < 8; bit++) byte = corruptBit(byte, bit, next(random), kind, odds);
      buf[i] = byte;
    }
    return;
  }
  const spread = BigInt(Math.trunc(2 / odds.probability));
  const end = offsetInBlock + buf.length;
  for (let at = 0; at < end;) {
    random.next();
    const interval = Number(((BigInt(random.outHi) << 32n) | BigInt(random.outLo)) % spread);
    const draw = next(random);
    at += Math.floor(interval / 8);
    if (at >= end) break;
    if (at >= offsetInBlock) {
      const i = at - offsetInBlock;
      buf[i] = corruptBit(buf[i], interval & 7, draw, kind, odds);
    }
  }
}

/** The low 32 bits of the generator's next output. */
function next(random: Xoshiro256): number {
  random.next();
  return random.outLo;
}

function corruptBit(byte: number, bit: number, draw: number, kind: Corruption, odds: Odds) {
  const mask = 1 << bit;
  if (kind === "flip") return byte ^ mask;
  if (odds.stuck * 0x1_0000_0000 > draw) return draw & 1 ? byte | mask : byte & ~mask;
  return byte;
}

/** The smallest power of two at least `x` (1 for 0 and 1), as nbdkit's next_power_of_2. */
export function nextPowerOf2(x: number): number {
  let power = 1;
  while (power < x) power *= 2;
  return power;
}
