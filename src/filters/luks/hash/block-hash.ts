/**
 * The shape md5, sha1, sha224, sha256 and ripemd160 share (Merkle–Damgård over 64-byte blocks
 * of 32-bit words): a compression function over a state, the padding (0x80, zeroes, the bit
 * length in 64 bits), and the digest as the first state words. Only the byte order of words
 * differs: little-endian for md5 and ripemd160, big-endian for the SHAs. Synchronous, and no
 * allocation per block, so a LUKS key slot's 8000 anti-forensic hashes take milliseconds.
 */

export const BLOCK_BYTES = 64;

export interface BlockHash {
  readonly digestBytes: number;
  /** Words are little-endian (md5, ripemd160) rather than big-endian. */
  readonly littleEndian: boolean;
  /** The initial state. */
  readonly initial: Uint32Array;
  /** Mixes one block of 16 words into `state`. */
  compress(state: Uint32Array, words: Uint32Array): void;
}

/** Reads 16 words of `bytes` from `at` into `words`, in the hash's byte order. */
export function loadWords(hash: BlockHash, bytes: Uint8Array, at: number, words: Uint32Array) {
  for (let i = 0; i < 16; i++, at += 4) {
    words[i] = hash.littleEndian
      ? (bytes[at] | (bytes[at + 1] << 8) | (bytes[at + 2] << 16) | (bytes[at + 3] << 24)) >>> 0
      : ((bytes[at] << 24) | (bytes[at + 1] << 16) | (bytes[at + 2] << 8) | bytes[at + 3]) >>> 0;
  }
}

/** The digest of the state, in the hash's byte order, cut to its length. */
export function stateDigest(hash: BlockHash, state: Uint32Array, out: Uint8Array): void {
  for (let i = 0; i < hash.digestBytes; i++) {
    const word = state[i >> 2];
    const shift = hash.littleEndian ? 8 * (i & 3) : 24 - 8 * (i & 3);
    out[i] = (word >>> shift) & 0xff;
  }
}

/** Working buffers for finish(), made once and reused for every message. */
export interface Scratch {
  readonly state: Uint32Array;
  readonly words: Uint32Array;
  readonly tail: Uint8Array;
}

export function scratchFor(hash: BlockHash): Scratch {
  return {
    state: new Uint32Array(hash.initial.length),
    words: new Uint32Array(16),
    tail: new Uint8Array(2 * BLOCK_BYTES),
  };
}

/**
 * Hashes `data` on from a state that has already taken `before` bytes (0 for a plain digest;
 * one block for HMAC's keyed states), leaving the digest in `out`.
 */
export function finish(
  hash: BlockHash,
  scratch: Scratch,
  start: Uint32Array,
  before: number,
  data: Uint8Array,
  out: Uint8Array,
): void {
  const { state, words, tail } = scratch;
  state.set(start);
  let at = 0;
  for (; at + BLOCK_BYTES <= data.length; at += BLOCK_BYTES) {
    loadWords(hash, data, at, words);
    hash.compress(state, words);
  }
  tail.fill(0);
  tail.set(data.subarray(at));
  tail[data.length - at] = 0x80;
  const blocks = data.length - at < 56 ? 1 : 2;
  const bits = (before + data.length) * 8;
  const end = blocks * BLOCK_BYTES;
  const high = Math.floor(bits / 2 ** 32);
  for (let i = 0; i < 4; i++) {
    const low = (bits >>> (8 * i)) & 0xff;
    const hi = (high >>> (8 * i)) & 0xff;
    if (hash.littleEndian) {
      tail[end - 8 + i] = low;
      tail[end - 4 + i] = hi;
    } else {
      tail[end - 1 - i] = low;
      tail[end - 5 - i] = hi;
    }
  }
  for (let b = 0; b < blocks; b++) {
    loadWords(hash, tail, b * BLOCK_BYTES, words);
    hash.compress(state, words);
  }
  stateDigest(hash, state, out);
}

/** The digest of `data`. */
export function blockDigest(hash: BlockHash, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(hash.digestBytes);
  finish(hash, scratchFor(hash), hash.initial, 0, data, out);
  return out;
}
