/**
 * nbdkit's common/include/random.h transcribed with BigInt, one line per line of C: slow and
 * obviously right, the reference the fast generators in src/plugins/lib/ are checked against.
 */

const MASK = (1n << 64n) - 1n;

function rotl(x: bigint, k: bigint): bigint {
  return ((x << k) | (x >> (64n - k))) & MASK;
}

/** xsrandom: the state splitmix64 makes from a 64-bit seed. */
export function xsrandom(seed: bigint): bigint[] {
  const state: bigint[] = [];
  let s = seed & MASK;
  for (let i = 0; i < 4; i++) {
    s = (s + 0x9e3779b97f4a7c15n) & MASK;
    let z = s;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK;
    state.push(z ^ (z >> 31n));
  }
  return state;
}

/** xrandom: one step of xoshiro256**, returning its 64-bit output. */
export function xrandom(s: bigint[]): bigint {
  const result = (rotl((s[1] * 5n) & MASK, 7n) * 9n) & MASK;
  const t = (s[1] << 17n) & MASK;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45n);
  return result;
}

/** The random plugin's byte at seed + offset (plugins/random/random.c). */
export function randomPluginByte(seed: bigint, offset: bigint): number {
  const state = xsrandom(seed + offset);
  xrandom(state);
  xrandom(state);
  return Number(xrandom(state) & 255n);
}
