// XTS decryption through Web Crypto's AES-CBC (native-xts.ts) gives what OpenSSL's aes-*-xts
// gives, for runs shorter and longer than the cipher's area and sector numbers past 2^32.

import { createCipheriv, randomBytes } from "node:crypto";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { nativeXts } from "../../../src/filters/luks/native-xts.ts";
import { CIPHER_MODE, createCipher, IV_MODE } from "../../../src/wasm/cipher.ts";

function opensslXts(key: Uint8Array, plain: Uint8Array, first: bigint): Uint8Array {
  const out = new Uint8Array(plain.length);
  for (let at = 0; at < plain.length; at += 512) {
    const iv = new Uint8Array(16);
    new DataView(iv.buffer).setBigUint64(0, first + BigInt(at / 512), true);
    const algorithm = key.length === 32 ? "aes-128-xts" : "aes-256-xts";
    const cipher = createCipheriv(algorithm, key, iv).setAutoPadding(false);
    out.set(cipher.update(plain.subarray(at, at + 512)), at);
  }
  return out;
}

describe("nativeXts", () => {
  for (const keyBytes of [32, 64]) {
    test(`deciphers XTS-AES-${keyBytes * 4} runs as OpenSSL enciphered them`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 300 }),
          fc.bigInt({ min: 0n, max: 1n << 40n }),
          async (sectors, first) => {
            const key = randomBytes(keyBytes);
            const plain = randomBytes(sectors * 512);
            const cipher = createCipher();
            cipher.setKey(CIPHER_MODE.XTS, IV_MODE.PLAIN64, key);
            const native = await nativeXts(cipher, key.subarray(0, keyBytes / 2));
            expect(native).toBeDefined();
            const bytes = opensslXts(key, plain, first);
            await native!.decipher(bytes, first);
            expect(Buffer.compare(bytes, plain)).toBe(0);
          },
        ),
        { seed: 38, numRuns: 20 },
      );
    });
  }
});
