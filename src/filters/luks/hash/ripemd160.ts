/**
 * RIPEMD-160 (Dobbertin, Bosselaers, Preneel, 1996): two lines of five rounds of sixteen steps
 * over little-endian words, joined at the end.
 */

import type { BlockHash } from "./block-hash.ts";

/** Which word each step of the left and right lines takes. */
// deno-fmt-ignore
const R_LEFT = Uint8Array.of(
  0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
  7, 4, 13, 1, 10, 6, 15, 3, 12, 0, 9, 5, 2, 14, 11, 8,
  3, 10, 14, 4, 9, 15, 8, 1, 2, 7, 0, 6, 13, 11, 5, 12,
  1, 9, 11, 10, 0, 8, 12, 4, 13, 3, 7, 15, 14, 5, 6, 2,
  4, 0, 5, 9, 7, 12, 2, 10, 14, 1, 3, 8, 11, 6, 15, 13,
);
// deno-fmt-ignore
const R_RIGHT = Uint8Array.of(
  5, 14, 7, 0, 9, 2, 11, 4, 13, 6, 15, 8, 1, 10, 3, 12,
  6, 11, 3, 7, 0, 13, 5, 10, 14, 15, 8, 12, 4, 9, 1, 2,
  15, 5, 1, 3, 7, 14, 6, 9, 11, 8, 12, 2, 10, 0, 4, 13,
  8, 6, 4, 1, 3, 11, 15, 0, 5, 12, 2, 13, 9, 7, 10, 14,
  12, 15, 10, 4, 1, 5, 8, 7, 6, 2, 13, 14, 0, 3, 9, 11,
);
/** Rotations of each step. */
// deno-fmt-ignore
const S_LEFT = Uint8Array.of(
  11, 14, 15, 12, 5, 8, 7, 9, 11, 13, 14, 15, 6, 7, 9, 8,
  7, 6, 8, 13, 11, 9, 7, 15, 7, 12, 15, 9, 11, 7, 13, 12,
  11, 13, 6, 7, 14, 9, 13, 15, 14, 8, 13, 6, 5, 12, 7, 5,
  11, 12, 14, 15, 14, 15, 9, 8, 9, 14, 5, 6, 8, 6, 5, 12,
  9, 15, 5, 11, 6, 8, 13, 12, 5, 12, 13, 14, 11, 8, 5, 6,
);
// deno-fmt-ignore
const S_RIGHT = Uint8Array.of(
  8, 9, 9, 11, 13, 15, 15, 5, 7, 7, 8, 11, 14, 14, 12, 6,
  9, 13, 15, 7, 12, 8, 9, 11, 7, 7, 12, 7, 6, 15, 13, 11,
  9, 7, 15, 11, 8, 6, 6, 14, 12, 13, 5, 14, 13, 13, 7, 5,
  15, 5, 8, 11, 14, 14, 6, 14, 6, 9, 12, 9, 12, 5, 15, 8,
  8, 5, 12, 9, 12, 5, 14, 6, 8, 13, 6, 5, 15, 13, 11, 11,
);
const K_LEFT = Uint32Array.of(0x00000000, 0x5a827999, 0x6ed9eba1, 0x8f1bbcdc, 0xa953fd4e);
const K_RIGHT = Uint32Array.of(0x50a28be6, 0x5c4dd124, 0x6d703ef3, 0x7a6d76e9, 0x00000000);

/** The round function of round `j` (0-4). */
function f(j: number, x: number, y: number, z: number): number {
  switch (j) {
    case 0:
      return x ^ y ^ z;
    case 1:
      return (x & y) | (~x & z);
    case 2:
      return (x | ~y) ^ z;
    case 3:
      return (x & z) | (y & ~z);
    default:
      return x ^ (y | ~z);
  }
}

function rotl(x: number, n: number): number {
  return (x << n) | (x >>> (32 - n));
}

function compress(state: Uint32Array, x: Uint32Array): void {
  let al = state[0], bl = state[1], cl = state[2], dl = state[3], el = state[4];
  let ar = al, br = bl, cr = cl, dr = dl, er = el;
  for (let j = 0; j < 80; j++) {
    const round = (j / 16) | 0;
    let t = (rotl((al + f(round, bl, cl, dl) + x[R_LEFT[j]] + K_LEFT[round]) | 0, S_LEFT[j]) +
      el) | 0;
    al = el;
    el = dl;
    dl = rotl(cl, 10);
    cl = bl;
    bl = t;
    t = (rotl((ar + f(4 - round, br, cr, dr) + x[R_RIGHT[j]] + K_RIGHT[round]) | 0, S_RIGHT[j]) +
      er) | 0;
    ar = er;
    er = dr;
    dr = rotl(cr, 10);
    cr = br;
    br = t;
  }
  const t = (state[1] + cl + dr) | 0;
  state[1] = (state[2] + dl + er) | 0;
  state[2] = (state[3] + el + ar) | 0;
  state[3] = (state[4] + al + br) | 0;
  state[4] = (state[0] + bl + cr) | 0;
  state[0] = t;
}

export const RIPEMD160: BlockHash = {
  digestBytes: 20,
  littleEndian: true,
  initial: Uint32Array.of(0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0),
  compress,
};
