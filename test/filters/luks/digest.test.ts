// The LUKS hashes and PBKDF2 against Node's OpenSSL, for every hash nbdkit names: our own
// md5, sha1, sha224, sha256 and ripemd160 (hash/), and Web Crypto's SHA-1 and SHA-2.

import { createHash, pbkdf2Sync, randomBytes } from "node:crypto";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { digest, HASHES, type HashName, pbkdf2 } from "../../../src/filters/luks/digest.ts";

const NAMES = Object.keys(HASHES) as HashName[];
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

describe("digest", () => {
  for (const name of NAMES) {
    test(`${name} of every length across two blocks, as OpenSSL`, async () => {
      for (let length = 0; length <= 200; length++) {
        const data = randomBytes(length);
        expect(hex(await digest(name, data)), `length ${length}`).toBe(
          createHash(name).update(data).digest("hex"),
        );
      }
    });
  }

  test('the published md5 and ripemd160 answers for "abc"', async () => {
    const abc = new TextEncoder().encode("abc");
    expect(hex(await digest("md5", abc))).toBe("900150983cd24fb0d6963f7d28e17f72");
    expect(hex(await digest("ripemd160", abc))).toBe("8eb208f7e05d987a9b044a8e98c6b087f15a0bfc");
  });
});

describe("pbkdf2", () => {
  for (const name of NAMES) {
    test(`PBKDF2-HMAC-${name} as OpenSSL, long keys and outputs too`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.uint8Array({ maxLength: 150 }),
          fc.uint8Array({ maxLength: 40 }),
          fc.integer({ min: 1, max: 300 }),
          fc.integer({ min: 1, max: 100 }),
          async (password, salt, iterations, length) => {
            const ours = await pbkdf2(name, password, salt, iterations, length);
            expect(hex(ours)).toBe(hex(pbkdf2Sync(password, salt, iterations, length, name)));
          },
        ),
        { seed: 8018, numRuns: 25 },
      );
    });
  }
});
