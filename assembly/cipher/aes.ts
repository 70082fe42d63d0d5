// AES (FIPS-197) on 16-byte blocks in linear memory: key expansion for 128-, 192- and 256-bit
// keys, and one block encrypted or decrypted in place with the T-tables of tables.ts.
//
// Table lookups make this fast without AES instructions (WASM has none), but not constant in
// time: what the cache holds can tell a local observer which table entries a key touched.
//
// A schedule is (rounds + 1) blocks of round keys, little-endian words. Decryption uses the
// equivalent inverse cipher (FIPS-197 §5.3.5): the encryption round keys in reverse order,
// each inner one passed through InvMixColumns, so decryption rounds look like encryption ones.

import { INV_SBOX, SBOX, TD, TE } from "./layout";
import { xtime } from "./tables";

// @ts-ignore: decorator

function te(table: u32, byte: u32): u32 {
  return load<u32>(TE + (table << 10) + (byte << 2));
}

// @ts-ignore: decorator

function td(table: u32, byte: u32): u32 {
  return load<u32>(TD + (table << 10) + (byte << 2));
}

// @ts-ignore: decorator

function sbox(byte: u32): u32 {
  return <u32> load<u8>(SBOX + byte);
}

// @ts-ignore: decorator

function invSbox(byte: u32): u32 {
  return <u32> load<u8>(INV_SBOX + byte);
}

/** SubWord: the S-box on each byte of a word. */
function subWord(w: u32): u32 {
  return sbox(w & 0xff) | (sbox((w >> 8) & 0xff) << 8) | (sbox((w >> 16) & 0xff) << 16) |
    (sbox(w >> 24) << 24);
}

/** Rounds for a key of `keyBytes` (16, 24 or 32), or 0 for any other length. */
export function roundsFor(keyBytes: u32): u32 {
  return keyBytes == 16 || keyBytes == 24 || keyBytes == 32 ? keyBytes / 4 + 6 : 0;
}

/**
 * Expands the key at `key` into encryption round keys at `enc` (FIPS-197 §5.2). RotWord is a
 * rotation right by 8 on a little-endian word; Rcon goes into its low byte.
 */
export function expandKey(key: usize, keyBytes: u32, enc: usize): void {
  const nk = keyBytes / 4;
  const words: u32 = 4 * (roundsFor(keyBytes) + 1);
  for (let i: u32 = 0; i < nk; i++) store<u32>(enc + (i << 2), load<u32>(key + (i << 2)));
  let rcon: u32 = 1;
  for (let i = nk; i < words; i++) {
    let t = load<u32>(enc + ((i - 1) << 2));
    if (i % nk == 0) {
      t = subWord(rotr<u32>(t, 8)) ^ rcon;
      rcon = xtime(rcon);
    } else if (nk > 6 && i % nk == 4) {
      t = subWord(t);
    }
    store<u32>(enc + (i << 2), load<u32>(enc + ((i - nk) << 2)) ^ t);
  }
}

/** Decryption round keys at `dec` from the encryption ones at `enc`. */
export function inverseSchedule(enc: usize, rounds: u32, dec: usize): void {
  for (let r: u32 = 0; r <= rounds; r++) {
    const from = enc + ((rounds - r) << 4);
    const to = dec + (r << 4);
    for (let c: u32 = 0; c < 16; c += 4) {
      const w = load<u32>(from + c);
      // InvMixColumns(w): Td already applies InvS, so feed it S[b] to cancel that out.
      const mixed = r == 0 || r == rounds ? w : td(0, sbox(w & 0xff)) ^
        td(1, sbox((w >> 8) & 0xff)) ^ td(2, sbox((w >> 16) & 0xff)) ^ td(3, sbox(w >> 24));
      store<u32>(to + c, mixed);
    }
  }
}

/** Encrypts the block at `block` in place with the round keys at `rk`. */
export function encryptBlock(rk: usize, rounds: u32, block: usize): void {
  let s0 = load<u32>(block) ^ load<u32>(rk);
  let s1 = load<u32>(block, 4) ^ load<u32>(rk, 4);
  let s2 = load<u32>(block, 8) ^ load<u32>(rk, 8);
  let s3 = load<u32>(block, 12) ^ load<u32>(rk, 12);
  // Column j takes row r from column j + r (ShiftRows), each through its row's table.
  for (let r: u32 = 1; r < rounds; r++) {
    rk += 16;
    const t0 = te(0, s0 & 0xff) ^ te(1, (s1 >> 8) & 0xff) ^ te(2, (s2 >> 16) & 0xff) ^
      te(3, s3 >> 24) ^ load<u32>(rk);
    const t1 = te(0, s1 & 0xff) ^ te(1, (s2 >> 8) & 0xff) ^ te(2, (s3 >> 16) & 0xff) ^
      te(3, s0 >> 24) ^ load<u32>(rk, 4);
    const t2 = te(0, s2 & 0xff) ^ te(1, (s3 >> 8) & 0xff) ^ te(2, (s0 >> 16) & 0xff) ^
      te(3, s1 >> 24) ^ load<u32>(rk, 8);
    const t3 = te(0, s3 & 0xff) ^ te(1, (s0 >> 8) & 0xff) ^ te(2, (s1 >> 16) & 0xff) ^
      te(3, s2 >> 24) ^ load<u32>(rk, 12);
    s0 = t0;
    s1 = t1;
    s2 = t2;
    s3 = t3;
  }
  rk += 16;
  // The last round has no MixColumns: S-box bytes, shifted.
  store<u32>(
    block,
    (sbox(s0 & 0xff) | (sbox((s1 >> 8) & 0xff) << 8) | (sbox((s2 >> 16) & 0xff) << 16) |
      (sbox(s3 >> 24) << 24)) ^ load<u32>(rk),
  );
  store<u32>(
    block,
    (sbox(s1 & 0xff) | (sbox((s2 >> 8) & 0xff) << 8) | (sbox((s3 >> 16) & 0xff) << 16) |
      (sbox(s0 >> 24) << 24)) ^ load<u32>(rk, 4),
    4,
  );
  store<u32>(
    block,
    (sbox(s2 & 0xff) | (sbox((s3 >> 8) & 0xff) << 8) | (sbox((s0 >> 16) & 0xff) << 16) |
      (sbox(s1 >> 24) << 24)) ^ load<u32>(rk, 8),
    8,
  );
  store<u32>(
    block,
    (sbox(s3 & 0xff) | (sbox((s0 >> 8) & 0xff) << 8) | (sbox((s1 >> 16) & 0xff) << 16) |
      (sbox(s2 >> 24) << 24)) ^ load<u32>(rk, 12),
    12,
  );
}

/** Decrypts the block at `block` in place with the decryption round keys at `dk`. */
export function decryptBlock(dk: usize, rounds: u32, block: usize): void {
  let s0 = load<u32>(block) ^ load<u32>(dk);
  let s1 = load<u32>(block, 4) ^ load<u32>(dk, 4);
  let s2 = load<u32>(block, 8) ^ load<u32>(dk, 8);
  let s3 = load<u32>(block, 12) ^ load<u32>(dk, 12);
  // Column j takes row r from column j - r (InvShiftRows).
  for (let r: u32 = 1; r < rounds; r++) {
    dk += 16;
    const t0 = td(0, s0 & 0xff) ^ td(1, (s3 >> 8) & 0xff) ^ td(2, (s2 >> 16) & 0xff) ^
      td(3, s1 >> 24) ^ load<u32>(dk);
    const t1 = td(0, s1 & 0xff) ^ td(1, (s0 >> 8) & 0xff) ^ td(2, (s3 >> 16) & 0xff) ^
      td(3, s2 >> 24) ^ load<u32>(dk, 4);
    const t2 = td(0, s2 & 0xff) ^ td(1, (s1 >> 8) & 0xff) ^ td(2, (s0 >> 16) & 0xff) ^
      td(3, s3 >> 24) ^ load<u32>(dk, 8);
    const t3 = td(0, s3 & 0xff) ^ td(1, (s2 >> 8) & 0xff) ^ td(2, (s1 >> 16) & 0xff) ^
      td(3, s0 >> 24) ^ load<u32>(dk, 12);
    s0 = t0;
    s1 = t1;
    s2 = t2;
    s3 = t3;
  }
  dk += 16;
  store<u32>(
    block,
    (invSbox(s0 & 0xff) | (invSbox((s3 >> 8) & 0xff) << 8) |
      (invSbox((s2 >> 16) & 0xff) << 16) | (invSbox(s1 >> 24) << 24)) ^ load<u32>(dk),
  );
  store<u32>(
    block,
    (invSbox(s1 & 0xff) | (invSbox((s0 >> 8) & 0xff) << 8) |
      (invSbox((s3 >> 16) & 0xff) << 16) | (invSbox(s2 >> 24) << 24)) ^ load<u32>(dk, 4),
    4,
  );
  store<u32>(
    block,
    (invSbox(s2 & 0xff) | (invSbox((s1 >> 8) & 0xff) << 8) |
      (invSbox((s0 >> 16) & 0xff) << 16) | (invSbox(s3 >> 24) << 24)) ^ load<u32>(dk, 8),
    8,
  );
  store<u32>(
    block,
    (invSbox(s3 & 0xff) | (invSbox((s2 >> 8) & 0xff) << 8) |
      (invSbox((s1 >> 16) & 0xff) << 16) | (invSbox(s0 >> 24) << 24)) ^ load<u32>(dk, 12),
    12,
  );
}
