/**
 * Runs a LUKS sector cipher (wasm/cipher.ts) over buffers of any length: each piece of up to
 * the cipher's area is copied in, enciphered or deciphered there in place, and copied out.
 * Sector numbers are exact offsets (a number, or a bigint past 2^53).
 */

import { addOffset } from "../../api/offset.ts";
import type { Offset } from "../../api/plugin.ts";
import type { Cipher } from "../../wasm/cipher.ts";

/** LUKS sectors in one pass through the cipher's area. */
function sectorsPerPass(cipher: Cipher): number {
  return cipher.data.length / 512;
}

/** Deciphers `bytes` (whole AES blocks) in place, as the sectors numbered from `sector` on. */
export function decipherInPlace(cipher: Cipher, bytes: Uint8Array, sector: Offset): void {
  const step = cipher.data.length;
  for (let at = 0; at < bytes.length; at += step) {
    const piece = bytes.subarray(at, Math.min(at + step, bytes.length));
    cipher.data.set(piece);
    cipher.decrypt(sector, piece.length);
    piece.set(cipher.data.subarray(0, piece.length));
    sector = addOffset(sector, sectorsPerPass(cipher));
  }
}

/**
 * Enciphers `from` into `to` (the same length, at most the cipher's area), as the sectors
 * numbered from `sector` on; `from` is left as it was.
 */
export function encipherInto(
  cipher: Cipher,
  from: Uint8Array,
  to: Uint8Array,
  sector: Offset,
): void {
  cipher.data.set(from);
  cipher.encrypt(sector, from.length);
  to.set(cipher.data.subarray(0, from.length));
}
