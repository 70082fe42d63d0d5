/**
 * The hashes LUKSv1 names (nbdkit's list: md5, sha1, sha224, sha256, sha384, sha512,
 * ripemd160) and the two things done with them: a plain digest, and PBKDF2-HMAC.
 *
 * PBKDF2 runs in Web Crypto (crypto.subtle, on every runtime) where it has the hash (SHA-1 and
 * SHA-2 but SHA-224), natively, at the speed a header's iteration counts were calibrated for;
 * md5, sha224 and ripemd160 run here (hash/), a few times slower. Digests, of which a key
 * slot's anti-forensic merge asks thousands, run here synchronously where a hash of 64-byte
 * blocks is (every one but sha384 and sha512): one awaited Web Crypto call each took 100-700 ms
 * per key slot on Node and Deno, the synchronous ones take a few.
 */

import { blockDigest, type BlockHash } from "./hash/block-hash.ts";
import { pbkdf2Block } from "./hash/hmac.ts";
import { MD5 } from "./hash/md5.ts";
import { RIPEMD160 } from "./hash/ripemd160.ts";
import { SHA1 } from "./hash/sha1.ts";
import { SHA224, SHA256 } from "./hash/sha256.ts";

/** Web Crypto takes views of plain ArrayBuffers only; ours never view shared memory. */
type Bytes = Uint8Array<ArrayBuffer>;

export interface HashInfo {
  /** Digest length in bytes. */
  readonly bytes: number;
  /** Web Crypto's name for it, where Web Crypto has it. */
  readonly webCrypto?: string;
  /** Our own implementation, where there is one. */
  readonly block?: BlockHash;
}

export const HASHES = {
  md5: { bytes: 16, block: MD5 },
  sha1: { bytes: 20, webCrypto: "SHA-1", block: SHA1 },
  sha224: { bytes: 28, block: SHA224 },
  sha256: { bytes: 32, webCrypto: "SHA-256", block: SHA256 },
  sha384: { bytes: 48, webCrypto: "SHA-384" },
  sha512: { bytes: 64, webCrypto: "SHA-512" },
  ripemd160: { bytes: 20, block: RIPEMD160 },
} as const satisfies Record<string, HashInfo>;

export type HashName = keyof typeof HASHES;

/** The digest of `data`: at once where we have the hash, else through Web Crypto. */
export function digest(hash: HashName, data: Uint8Array): Uint8Array | Promise<Uint8Array> {
  const info: HashInfo = HASHES[hash];
  if (info.block) return blockDigest(info.block, data);
  return crypto.subtle.digest(info.webCrypto!, data as Bytes).then((d) => new Uint8Array(d));
}

/** PBKDF2 with HMAC-`hash` (RFC 8018 §5.2): `length` bytes from a password and a salt. */
export async function pbkdf2(
  hash: HashName,
  password: Uint8Array,
  salt: Uint8Array,
  iterations: number,
  length: number,
): Promise<Uint8Array> {
  const info: HashInfo = HASHES[hash];
  if (info.webCrypto === undefined) {
    return pbkdf2Block(info.block!, password, salt, iterations, length);
  }
  const key = await crypto.subtle.importKey("raw", password as Bytes, "PBKDF2", false, [
    "deriveBits",
  ]);
  const bits = await crypto.subtle.deriveBits(
    { name: "PBKDF2", hash: info.webCrypto, salt: salt as Bytes, iterations },
    key,
    length * 8,
  );
  return new Uint8Array(bits);
}
