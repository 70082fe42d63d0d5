// The cipher module against published known answers: FIPS-197 Appendix C (AES-128/192/256 on
// one block), NIST SP 800-38A F.2 (CBC) and IEEE 1619-2007 Annex B (XTS-AES-128 and -256 on
// whole 512-byte data units); then against Node's OpenSSL on random keys, sectors and data,
// for every key size, mode and IV generator LUKS uses.

import { createCipheriv, createHash, randomBytes } from "node:crypto";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { CIPHER_MODE, CIPHER_SECTOR_SIZE, createCipher, IV_MODE } from "../../src/wasm/cipher.ts";

const hex = (text: string) => Uint8Array.from(Buffer.from(text.replace(/\s+/g, ""), "hex"));
const toHex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

/** Runs the module over `input` and answers what it made of it. */
function run(
  setUp: (cipher: ReturnType<typeof createCipher>) => void,
  direction: "encrypt" | "decrypt",
  sector: number | bigint,
  input: Uint8Array,
): Uint8Array {
  const cipher = createCipher();
  setUp(cipher);
  cipher.data.set(input);
  cipher[direction](sector, input.length);
  return cipher.data.slice(0, input.length);
}

/** The 512 bytes 00 01 … ff 00 01 … ff of IEEE 1619's long vectors. */
const COUNTING = Uint8Array.from({ length: 512 }, (_, i) => i & 0xff);

describe("AES block cipher (FIPS-197 Appendix C)", () => {
  const plaintext = hex("00112233445566778899aabbccddeeff");
  const vectors = [
    { bits: 128, ciphertext: "69c4e0d86a7b0430d8cdb78070b4c55a" },
    { bits: 192, ciphertext: "dda97ca4864cdfe06eaf70a0ec0d7191" },
    { bits: 256, ciphertext: "8ea2b7ca516745bfeafc49904b496089" },
  ];
  for (const { bits, ciphertext } of vectors) {
    test(`AES-${bits} enciphers and deciphers the example block`, () => {
      const key = Uint8Array.from({ length: bits / 8 }, (_, i) => i);
      const setUp = (c: ReturnType<typeof createCipher>) =>
        c.setKey(CIPHER_MODE.ECB, IV_MODE.PLAIN64, key);
      expect(toHex(run(setUp, "encrypt", 0, plaintext))).toBe(ciphertext);
      expect(toHex(run(setUp, "decrypt", 0, hex(ciphertext)))).toBe(toHex(plaintext));
    });
  }

  test("keys of lengths AES does not take are refused", () => {
    const cipher = createCipher();
    for (const length of [0, 8, 20, 33]) {
      expect(() => cipher.setKey(CIPHER_MODE.CBC, IV_MODE.PLAIN64, new Uint8Array(length)))
        .toThrow(RangeError);
    }
    expect(() => cipher.setKey(CIPHER_MODE.XTS, IV_MODE.PLAIN64, new Uint8Array(40)))
      .toThrow(RangeError);
    expect(() => cipher.setKey(CIPHER_MODE.XTS, IV_MODE.PLAIN64, new Uint8Array(96)))
      .toThrow(RangeError);
  });
});

describe("CBC (NIST SP 800-38A F.2.1, F.2.2)", () => {
  // The IV 000102…0f is sector 0x0706050403020100 with the bytes 08…0f after it: not an IV
  // LUKS makes, so the known answer is checked block by block through ECB and XOR instead.
  test("CBC-AES128 and its first block agree with the standard's example", () => {
    const key = hex("2b7e151628aed2a6abf7158809cf4f3c");
    const plaintext = hex("6bc1bee22e409f96e93d7e117393172a");
    const iv = hex("000102030405060708090a0b0c0d0e0f");
    const mixed = plaintext.map((b, i) => b ^ iv[i]);
    const setUp = (c: ReturnType<typeof createCipher>) =>
      c.setKey(CIPHER_MODE.ECB, IV_MODE.PLAIN64, key);
    expect(toHex(run(setUp, "encrypt", 0, mixed))).toBe("7649abac8119b246cee98e9b12e9197d");
  });

  test("CBC with a plain64 IV is CBC with the sector number as IV", () => {
    const key = hex("2b7e151628aed2a6abf7158809cf4f3c");
    const plaintext = hex(
      "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51" +
        "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710",
    );
    const iv = hex("0001020304050607" + "0000000000000000");
    const sector = 0x0706050403020100n;
    const expected = createCipheriv("aes-128-cbc", key, iv).setAutoPadding(false)
      .update(plaintext);
    const setUp = (c: ReturnType<typeof createCipher>) =>
      c.setKey(CIPHER_MODE.CBC, IV_MODE.PLAIN64, key);
    expect(toHex(run(setUp, "encrypt", sector, plaintext))).toBe(toHex(expected));
    expect(toHex(run(setUp, "decrypt", sector, expected))).toBe(toHex(plaintext));
  });
});

describe("XTS (IEEE 1619-2007 Annex B)", () => {
  const vectors = [
    {
      name: "vector 1 (XTS-AES-128, all zero)",
      key: "00000000000000000000000000000000" + "00000000000000000000000000000000",
      sector: 0,
      plaintext: hex("00".repeat(32)),
      ciphertext: "917cf69ebd68b2ec9b9fe9a3eadda692cd43d2f59598ed858c02c2652fbf922e",
    },
    {
      name: "vector 2 (XTS-AES-128, data unit 0x3333333333)",
      key: "11111111111111111111111111111111" + "22222222222222222222222222222222",
      sector: 0x3333333333,
      plaintext: hex("44".repeat(32)),
      ciphertext: "c454185e6a16936e39334038acef838bfb186fff7480adc4289382ecd6d394f0",
    },
    {
      name: "vector 4 (XTS-AES-128, a 512-byte data unit)",
      key: "27182818284590452353602874713526" + "31415926535897932384626433832795",
      sector: 0,
      plaintext: COUNTING,
      ciphertext: "27a7479befa1d476489f308cd4cfa6e2a96e4bbe3208ff25287dd3819616e89c" +
        "c78cf7f5e543445f8333d8fa7f56000005279fa5d8b5e4ad40e736ddb4d35412" +
        "328063fd2aab53e5ea1e0a9f332500a5df9487d07a5c92cc512c8866c7e860ce" +
        "93fdf166a24912b422976146ae20ce846bb7dc9ba94a767aaef20c0d61ad0265" +
        "5ea92dc4c4e41a8952c651d33174be51a10c421110e6d81588ede82103a252d8" +
        "a750e8768defffed9122810aaeb99f9172af82b604dc4b8e51bcb08235a6f434" +
        "1332e4ca60482a4ba1a03b3e65008fc5da76b70bf1690db4eae29c5f1badd03c" +
        "5ccf2a55d705ddcd86d449511ceb7ec30bf12b1fa35b913f9f747a8afd1b130e" +
        "94bff94effd01a91735ca1726acd0b197c4e5b03393697e126826fb6bbde8ecc" +
        "1e08298516e2c9ed03ff3c1b7860f6de76d4cecd94c8119855ef5297ca67e9f3" +
        "e7ff72b1e99785ca0a7e7720c5b36dc6d72cac9574c8cbbc2f801e23e56fd344" +
        "b07f22154beba0f08ce8891e643ed995c94d9a69c9f1b5f499027a78572aeebd" +
        "74d20cc39881c213ee770b1010e4bea718846977ae119f7a023ab58cca0ad752" +
        "afe656bb3c17256a9f6e9bf19fdd5a38fc82bbe872c5539edb609ef4f79c203e" +
        "bb140f2e583cb2ad15b4aa5b655016a8449277dbd477ef2c8d6c017db738b18d" +
        "eb4a427d1923ce3ff262735779a418f20a282df920147beabe421ee5319d0568",
    },
    {
      name: "vector 10 (XTS-AES-256, data unit 0xff)",
      key: "2718281828459045235360287471352662497757247093699959574966967627" +
        "3141592653589793238462643383279502884197169399375105820974944592",
      sector: 0xff,
      plaintext: COUNTING,
      ciphertext: "1c3b3a102f770386e4836c99e370cf9bea00803f5e482357a4ae12d414a3e63b" +
        "5d31e276f8fe4a8d66b317f9ac683f44680a86ac35adfc3345befecb4bb188fd" +
        "5776926c49a3095eb108fd1098baec70aaa66999a72a82f27d848b21d4a741b0" +
        "c5cd4d5fff9dac89aeba122961d03a757123e9870f8acf1000020887891429ca" +
        "2a3e7a7d7df7b10355165c8b9a6d0a7de8b062c4500dc4cd120c0f7418dae3d0" +
        "b5781c34803fa75421c790dfe1de1834f280d7667b327f6c8cd7557e12ac3a0f" +
        "93ec05c52e0493ef31a12d3d9260f79a289d6a379bc70c50841473d1a8cc81ec" +
        "583e9645e07b8d9670655ba5bbcfecc6dc3966380ad8fecb17b6ba02469a020a" +
        "84e18e8f84252070c13e9f1f289be54fbc481457778f616015e1327a02b140f1" +
        "505eb309326d68378f8374595c849d84f4c333ec4423885143cb47bd71c5edae" +
        "9be69a2ffeceb1bec9de244fbe15992b11b77c040f12bd8f6a975a44a0f90c29" +
        "a9abc3d4d893927284c58754cce294529f8614dcd2aba991925fedc4ae74ffac" +
        "6e333b93eb4aff0479da9a410e4450e0dd7ae4c6e2910900575da401fc07059f" +
        "645e8b7e9bfdef33943054ff84011493c27b3429eaedb4ed5376441a77ed4385" +
        "1ad77f16f541dfd269d50d6a5f14fb0aab1cbb4c1550be97f7ab4066193c4caa" +
        "773dad38014bd2092fa755c824bb5e54c4f36ffda9fcea70b9c6e693e148c151",
    },
    {
      name: "vector 14 (XTS-AES-256, data unit 0xffffffffff: past 32 bits)",
      key: "2718281828459045235360287471352662497757247093699959574966967627" +
        "3141592653589793238462643383279502884197169399375105820974944592",
      sector: 0xffffffffff,
      plaintext: COUNTING,
      ciphertext: "64497e5a831e4a932c09be3e5393376daa599548b816031d224bbf50a818ed23" +
        "50eae7e96087c8a0db51ad290bd00c1ac1620857635bf246c176ab463be30b80" +
        "8da548081ac847b158e1264be25bb0910bbc92647108089415d45fab1b3d2604" +
        "e8a8eff1ae4020cfa39936b66827b23f371b92200be90251e6d73c5f86de5fd4" +
        "a950781933d79a28272b782a2ec313efdfcc0628f43d744c2dc2ff3dcb66999b" +
        "50c7ca895b0c64791eeaa5f29499fb1c026f84ce5b5c72ba1083cddb5ce45434" +
        "631665c333b60b11593fb253c5179a2c8db813782a004856a1653011e93fb6d8" +
        "76c18366dd8683f53412c0c180f9c848592d593f8609ca736317d356e13e2bff" +
        "3a9f59cd9aeb19cd482593d8c46128bb32423b37a9adfb482b99453fbe25a41b" +
        "f6feb4aa0bef5ed24bf73c762978025482c13115e4015aac992e5613a3b5c2f6" +
        "85b84795cb6e9b2656d8c88157e52c42f978d8634c43d06fea928f2822e465aa" +
        "6576e9bf419384506cc3ce3c54ac1a6f67dc66f3b30191e698380bc999b05abc" +
        "e19dc0c6dcc2dd001ec535ba18deb2df1a101023108318c75dc98611a09dc48a" +
        "0acdec676fabdf222f07e026f059b672b56e5cbc8e1d21bbd867dd9272120546" +
        "81d70ea737134cdfce93b6f82ae22423274e58a0821cc5502e2d0ab4585e94de" +
        "6975be5e0b4efce51cd3e70c25a1fbbbd609d273ad5b0d59631c531f6a0a57b9",
    },
  ];
  for (const { name, key, sector, plaintext, ciphertext } of vectors) {
    test(name, () => {
      const setUp = (c: ReturnType<typeof createCipher>) =>
        c.setKey(CIPHER_MODE.XTS, IV_MODE.PLAIN64, hex(key));
      expect(toHex(run(setUp, "encrypt", sector, plaintext))).toBe(ciphertext);
      expect(toHex(run(setUp, "decrypt", sector, hex(ciphertext)))).toBe(toHex(plaintext));
    });
  }
});

/** What OpenSSL makes of `data` as LUKS sectors from `sector` on: one cipher call per sector. */
function openssl(
  algorithm: string,
  key: Uint8Array,
  ivOf: (sector: bigint) => Uint8Array,
  sector: bigint,
  data: Uint8Array,
): Uint8Array {
  const out = new Uint8Array(data.length);
  for (let at = 0; at < data.length; at += CIPHER_SECTOR_SIZE) {
    const piece = data.subarray(at, at + CIPHER_SECTOR_SIZE);
    const cipher = createCipheriv(algorithm, key, ivOf(sector + BigInt(at / 512)));
    out.set(cipher.setAutoPadding(false).update(piece), at);
  }
  return out;
}

function littleEndianIv(sector: bigint, bytes: number): Uint8Array {
  const iv = new Uint8Array(16);
  for (let i = 0; i < bytes; i++) iv[i] = Number((sector >> BigInt(8 * i)) & 0xffn);
  return iv;
}

describe("LUKS sectors against OpenSSL", () => {
  const cases = [
    { mode: "xts", bits: 128 },
    { mode: "xts", bits: 256 },
    { mode: "cbc", bits: 128 },
    { mode: "cbc", bits: 192 },
    { mode: "cbc", bits: 256 },
  ] as const;
  const ivModes = ["plain", "plain64", "essiv"] as const;
  for (const { mode, bits } of cases) {
    for (const ivMode of ivModes) {
      test(`aes-${bits}-${mode}-${ivMode}${ivMode === "essiv" ? ":sha256" : ""}`, () => {
        fc.assert(
          fc.property(
            fc.bigInt({ min: 0n, max: 1n << 40n }),
            fc.integer({ min: 1, max: 130 }),
            (sector, sectors) => {
              const keyBytes = (mode === "xts" ? 2 : 1) * bits / 8;
              const key = randomBytes(keyBytes);
              const data = randomBytes(sectors * CIPHER_SECTOR_SIZE);
              const essivKey = createHash("sha256").update(key).digest();
              const ivOf = (n: bigint) => {
                if (ivMode === "plain") return littleEndianIv(n & 0xffffffffn, 4);
                const iv = littleEndianIv(n, 8);
                if (ivMode === "plain64") return iv;
                return createCipheriv("aes-256-ecb", essivKey, null).setAutoPadding(false)
                  .update(iv);
              };
              const algorithm = `aes-${bits}-${mode}`;
              const expected = openssl(algorithm, key, ivOf, sector, data);
              const setUp = (c: ReturnType<typeof createCipher>) =>
                c.setKey(
                  mode === "xts" ? CIPHER_MODE.XTS : CIPHER_MODE.CBC,
                  IV_MODE[
                    ivMode === "plain" ? "PLAIN" : ivMode === "plain64" ? "PLAIN64" : "ESSIV"
                  ],
                  key,
                  ivMode === "essiv" ? essivKey : undefined,
                );
              // Through the area in pieces, as the filter passes a long request.
              const cipher = createCipher();
              setUp(cipher);
              const got = new Uint8Array(data.length);
              const step = cipher.data.length;
              for (let at = 0; at < data.length; at += step) {
                const piece = data.subarray(at, at + step);
                cipher.data.set(piece);
                cipher.encrypt(sector + BigInt(at / 512), piece.length);
                got.set(cipher.data.subarray(0, piece.length), at);
              }
              expect(toHex(got)).toBe(toHex(expected));
              expect(toHex(run(setUp, "decrypt", sector, expected.subarray(0, step))))
                .toBe(toHex(data.subarray(0, step)));
            },
          ),
          { seed: 1619, numRuns: 12 },
        );
      });
    }
  }

  test("a short last sector is enciphered with the next sector's IV", () => {
    const key = randomBytes(64);
    const data = randomBytes(512 + 256);
    const expected = openssl("aes-256-xts", key, (n) => littleEndianIv(n, 8), 5n, data);
    const setUp = (c: ReturnType<typeof createCipher>) =>
      c.setKey(CIPHER_MODE.XTS, IV_MODE.PLAIN64, key);
    expect(toHex(run(setUp, "encrypt", 5, data))).toBe(toHex(expected));
  });

  test("lengths that are not whole blocks, or overrun the area, are refused", () => {
    const cipher = createCipher();
    cipher.setKey(CIPHER_MODE.XTS, IV_MODE.PLAIN64, new Uint8Array(64));
    expect(() => cipher.decrypt(0, 17)).toThrow(RangeError);
    expect(() => cipher.decrypt(0, cipher.data.length + 16)).toThrow(RangeError);
  });
});
