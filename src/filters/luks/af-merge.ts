/**
 * LUKS's anti-forensic merge (the LUKS1 on-disk format, "AF-merge"): a key slot stores the
 * master key split into `stripes` stripes of its length, so that destroying any part of them
 * destroys the key. Merging runs a diffusion over all but the last stripe and XORs the last:
 *
 *   d = 0;  for each stripe s but the last: d = H(d ^ s);  key = d ^ last stripe
 *
 * where H hashes the buffer digest-sized piece by piece, piece i as hash(be32(i) || piece),
 * each digest (cut to the piece's length) replacing the piece.
 */

import { digest, HASHES, type HashName } from "./digest.ts";

async function diffuse(hash: HashName, block: Uint8Array, input: Uint8Array): Promise<void> {
  const size = HASHES[hash].bytes;
  for (let i = 0, at = 0; at < block.length; i++, at += size) {
    const piece = block.subarray(at, Math.min(at + size, block.length));
    new DataView(input.buffer).setUint32(0, i);
    input.set(piece, 4);
    const hashed = digest(hash, input.subarray(0, 4 + piece.length));
    piece.set((hashed instanceof Uint8Array ? hashed : await hashed).subarray(0, piece.length));
  }
}

/** The key of `keyBytes` bytes merged from `split` (stripes × keyBytes bytes). */
export async function afMerge(
  hash: HashName,
  split: Uint8Array,
  keyBytes: number,
  stripes: number,
): Promise<Uint8Array> {
  const block = new Uint8Array(keyBytes);
  const input = new Uint8Array(4 + HASHES[hash].bytes);
  for (let s = 0; s < stripes - 1; s++) {
    const stripe = split.subarray(s * keyBytes, (s + 1) * keyBytes);
    for (let i = 0; i < keyBytes; i++) block[i] ^= stripe[i];
    await diffuse(hash, block, input);
  }
  const last = split.subarray((stripes - 1) * keyBytes, stripes * keyBytes);
  for (let i = 0; i < keyBytes; i++) block[i] ^= last[i];
  return block;
}
