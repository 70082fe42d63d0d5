/**
 * The pseudo-random generator of nbdkit's common/include/random.h, step by step and bit for bit:
 * xoshiro256** 1.0, seeded from one 64-bit number by splitmix64. sparse-random draws its map of
 * data and holes from it, as nbdkit does. Not cryptographically secure, and never to be.
 *
 * Each 64-bit word is held as two 32-bit halves in plain numbers, never as a BigInt: a BigInt per
 * step allocates and is many times slower. Halves are int32 (`| 0`) while they travel and are
 * read as uint32 (`>>> 0`) where a double needs their value. (Bulk bytes come from the
 * WebAssembly twin in random-bytes.wat, which has native 64-bit arithmetic.)
 */

/** 2^32 and its inverse: the weight of a high half. */
const TWO_32 = 4294967296;
const INV_TWO_32 = 1 / TWO_32;

/** splitmix64's increment γ (2^64 over the golden ratio) and its two multipliers, as halves. */
const GAMMA_HI = 0x9e3779b9 | 0;
const GAMMA_LO = 0x7f4a7c15 | 0;
const MIX1_HI = 0xbf58476d | 0;
const MIX1_LO = 0x1ce4e5b9;
const MIX2_HI = 0x94d049bb | 0;
const MIX2_LO = 0x133111eb;

/** A xoshiro256** generator: the state words s[0..3], each as high and low halves. */
export class Xoshiro256 {
  private s0h = 0;
  private s0l = 0;
  private s1h = 0;
  private s1l = 0;
  private s2h = 0;
  private s2l = 0;
  private s3h = 0;
  private s3l = 0;
  /** The exact 64-bit output of the last next(), as uint32 halves. */
  outHi = 0;
  outLo = 0;

  /**
   * A generator as random.h's xsrandom seeds it: the four state words are the first four
   * outputs of splitmix64 started at `seed` mod 2^64.
   */
  constructor(seed: number | bigint) {
    if (typeof seed === "number") {
      const hi = Math.floor(seed * INV_TWO_32);
      splitHi = hi | 0;
      splitLo = (seed - hi * TWO_32) | 0;
    } else {
      splitHi = Number(BigInt.asUintN(32, seed >> 32n)) | 0;
      splitLo = Number(BigInt.asUintN(32, seed)) | 0;
    }
    this.s0h = splitmixNext();
    this.s0l = mixLo;
    this.s1h = splitmixNext();
    this.s1l = mixLo;
    this.s2h = splitmixNext();
    this.s2l = mixLo;
    this.s3h = splitmixNext();
    this.s3l = mixLo;
  }

  /**
   * random.h's xrandom: one step. The exact output is left in outHi/outLo; the return value is
   * that output as a double, rounded to nearest as C's `(double) uint64_t` rounds it (the one
   * addition of two exact terms below rounds once, to nearest even).
   */
  next(): number {
    // The output is rotl(s1 · 5, 7) · 9, from s1 before the step. Each low-half product is
    // below 2^36, so it is exact in a double and its carry is its quotient by 2^32.
    const timesFive = (this.s1l >>> 0) * 5;
    const fiveHi = (Math.imul(this.s1h, 5) + Math.floor(timesFive * INV_TWO_32)) | 0;
    const fiveLo = timesFive | 0;
    const rotHi = (fiveHi << 7) | (fiveLo >>> 25);
    const rotLo = (fiveLo << 7) | (fiveHi >>> 25);
    const timesNine = (rotLo >>> 0) * 9;
    this.outHi = (Math.imul(rotHi, 9) + Math.floor(timesNine * INV_TWO_32)) >>> 0;
    this.outLo = timesNine >>> 0;

    // The state transition: t = s1 << 17; s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t;
    // s3 = rotl(s3, 45).
    const tHi = (this.s1h << 17) | (this.s1l >>> 15);
    const tLo = this.s1l << 17;
    this.s2h ^= this.s0h;
    this.s2l ^= this.s0l;
    this.s3h ^= this.s1h;
    this.s3l ^= this.s1l;
    this.s1h ^= this.s2h;
    this.s1l ^= this.s2l;
    this.s0h ^= this.s3h;
    this.s0l ^= this.s3l;
    this.s2h ^= tHi;
    this.s2l ^= tLo;
    // A rotation by 45 is a swap of the halves (by 32), then a rotation by 13.
    const hi = this.s3h;
    this.s3h = (this.s3l << 13) | (hi >>> 19);
    this.s3l = (hi << 13) | (this.s3l >>> 19);

    return this.outHi * TWO_32 + this.outLo;
  }
}

/**
 * splitmix64's state and its last output, in module variables: seeding is synchronous and
 * never re-entered, and this way it hands back two halves without allocating.
 */
let splitHi = 0;
let splitLo = 0;
let mixHi = 0;
let mixLo = 0;

/** random.h's snext: advances splitmix64 by γ and returns its output's high half (low: mixLo). */
function splitmixNext(): number {
  const sum = (splitLo >>> 0) + (GAMMA_LO >>> 0);
  splitHi = (splitHi + GAMMA_HI + (sum >= TWO_32 ? 1 : 0)) | 0;
  splitLo = sum | 0;
  // z = (z ^ (z >> 30)) · MIX1
  multiply(
    splitHi ^ (splitHi >>> 30),
    splitLo ^ ((splitLo >>> 30) | (splitHi << 2)),
    MIX1_HI,
    MIX1_LO,
  );
  // z = (z ^ (z >> 27)) · MIX2
  multiply(mixHi ^ (mixHi >>> 27), mixLo ^ ((mixLo >>> 27) | (mixHi << 5)), MIX2_HI, MIX2_LO);
  // z ^ (z >> 31)
  const hi = mixHi;
  mixLo = mixLo ^ ((mixLo >>> 31) | (hi << 1));
  mixHi = hi ^ (hi >>> 31);
  return mixHi;
}

/**
 * mixHi/mixLo = z · m mod 2^64. Of the four half products only zLo · mLo needs both of its
 * halves; the cross terms only feed the high half, where Math.imul's low 32 bits are enough.
 */
function multiply(zHi: number, zLo: number, mHi: number, mLo: number): void {
  mixLo = Math.imul(zLo, mLo);
  mixHi = (mulHigh(zLo >>> 0, mLo >>> 0) + Math.imul(zHi, mLo) + Math.imul(zLo, mHi)) | 0;
}

/**
 * The high half of a · b for uint32 a and b. The double a · b is within 2^11 of the exact
 * product, whose low half is Math.imul(a, b): taking that away leaves a multiple of 2^32 give or
 * take the error, so the rounded quotient by 2^32 is the high half exactly.
 */
function mulHigh(a: number, b: number): number {
  const low = Math.imul(a, b) >>> 0;
  return ((a * b - low) * INV_TWO_32 + 0.5) >>> 0;
}
