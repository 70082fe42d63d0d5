// Builds AES's tables (FIPS-197 §5.1.1, §5.3.2) in linear memory at start: the S-box and its
// inverse, and the "T-tables" that fold SubBytes, ShiftRows and MixColumns into four lookups
// and three XORs per column.
//
// Words are little-endian, as WASM loads them: byte r of a column (its row r) sits in bits
// 8r..8r+7. MixColumns sends a byte s of row 0 to the column (2s, s, s, 3s), so
//
//   Te0[x] = 2s | s << 8 | s << 16 | 3s << 24       with s = S[x]
//   Te1[x] = rotl(Te0[x], 8)   (row 1: 3s, 2s, s, s), Te2 = rotl 16, Te3 = rotl 24
//
// and InvMixColumns sends a byte v of row 0 to (14v, 9v, 13v, 11v):
//
//   Td0[x] = 14v | 9v << 8 | 13v << 16 | 11v << 24  with v = InvS[x];  Td1..Td3 rotate it.

import { INV_SBOX, SBOX, TD, TE } from "./layout";

/** x·2 in GF(2^8) modulo x^8 + x^4 + x^3 + x + 1. */
// @ts-ignore: decorator

export function xtime(x: u32): u32 {
  return ((x << 1) ^ (((x >> 7) & 1) * 0x1b)) & 0xff;
}

/** a·b in GF(2^8), by shifts and adds: only used while building tables. */
function multiply(a: u32, b: u32): u32 {
  let product: u32 = 0;
  while (b != 0) {
    if (b & 1) product ^= a;
    a = xtime(a);
    b >>= 1;
  }
  return product;
}

function rotl8(x: u32, n: u32): u32 {
  return ((x << n) | (x >> (8 - n))) & 0xff;
}

/** Fills the S-boxes and T-tables; the module is useless until this has run once. */
export function buildTables(): void {
  // Walk the multiplicative group with generator 3: p runs over every non-zero byte while
  // q runs over the inverses (q = 1/p), so each p gets its inverse without a search.
  let p: u32 = 1;
  let q: u32 = 1;
  do {
    p = p ^ xtime(p); // p·3
    q ^= q << 1; // q / 3, i.e. q · 0xf6
    q ^= q << 2;
    q ^= q << 4;
    q &= 0xff;
    if (q & 0x80) q ^= 0x09;
    const s = q ^ rotl8(q, 1) ^ rotl8(q, 2) ^ rotl8(q, 3) ^ rotl8(q, 4) ^ 0x63;
    store<u8>(SBOX + p, <u8> s);
    store<u8>(INV_SBOX + s, <u8> p);
  } while (p != 1);
  store<u8>(SBOX, 0x63); // 0 has no inverse: the affine map of 0
  store<u8>(INV_SBOX + 0x63, 0);

  for (let x: u32 = 0; x < 256; x++) {
    const s = <u32> load<u8>(SBOX + x);
    const e = xtime(s) | (s << 8) | (s << 16) | ((xtime(s) ^ s) << 24);
    const v = <u32> load<u8>(INV_SBOX + x);
    const d = multiply(v, 14) | (multiply(v, 9) << 8) | (multiply(v, 13) << 16) |
      (multiply(v, 11) << 24);
    for (let t: u32 = 0; t < 4; t++) {
      store<u32>(TE + (t << 10) + (x << 2), rotl<u32>(e, t * 8));
      store<u32>(TD + (t << 10) + (x << 2), rotl<u32>(d, t * 8));
    }
  }
}
