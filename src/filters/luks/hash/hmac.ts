/**
 * HMAC (RFC 2104) and PBKDF2-HMAC (RFC 8018 §5.2) over a BlockHash, for the hashes Web Crypto
 * lacks. The key's inner and outer states are compressed once; each PBKDF2 iteration then costs
 * two compressions, its buffers made once.
 */

import {
  BLOCK_BYTES,
  blockDigest,
  type BlockHash,
  finish,
  loadWords,
  scratchFor,
} from "./block-hash.ts";

/** The state after the key XOR `pad` has been hashed: HMAC's inner or outer start. */
function keyedState(hash: BlockHash, key: Uint8Array, pad: number): Uint32Array {
  const block = new Uint8Array(BLOCK_BYTES);
  block.set(key.length > BLOCK_BYTES ? blockDigest(hash, key) : key);
  for (let i = 0; i < BLOCK_BYTES; i++) block[i] ^= pad;
  const state = Uint32Array.from(hash.initial);
  const words = new Uint32Array(16);
  loadWords(hash, block, 0, words);
  hash.compress(state, words);
  return state;
}

/** PBKDF2 with HMAC-`hash`: `length` bytes from a password and a salt. */
export function pbkdf2Block(
  hash: BlockHash,
  password: Uint8Array,
  salt: Uint8Array,
  iterations: number,
  length: number,
): Uint8Array {
  const inner = keyedState(hash, password, 0x36);
  const outer = keyedState(hash, password, 0x5c);
  const size = hash.digestBytes;
  const out = new Uint8Array(length);
  const first = new Uint8Array(salt.length + 4);
  first.set(salt);
  const u = new Uint8Array(size);
  const innerDigest = new Uint8Array(size);
  const t = new Uint8Array(size);
  const scratch = scratchFor(hash);
  for (let block = 1, at = 0; at < length; block++, at += size) {
    new DataView(first.buffer).setUint32(salt.length, block);
    // U1 = HMAC(P, S || INT(i)); Uj = HMAC(P, Uj-1); T = U1 ^ … ^ Uc
    finish(hash, scratch, inner, BLOCK_BYTES, first, innerDigest);
    finish(hash, scratch, outer, BLOCK_BYTES, innerDigest, u);
    t.set(u);
    for (let j = 1; j < iterations; j++) {
      finish(hash, scratch, inner, BLOCK_BYTES, u, innerDigest);
      finish(hash, scratch, outer, BLOCK_BYTES, innerDigest, u);
      for (let k = 0; k < size; k++) t[k] ^= u[k];
    }
    out.set(t.subarray(0, Math.min(size, length - at)), at);
  }
  return out;
}
