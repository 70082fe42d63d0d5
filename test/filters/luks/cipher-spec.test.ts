// parseCipherSpec reads a LUKSv1 header's cipher fields as nbdkit does, refusing with its
// messages in its order, and takes ESSIV and AES-192 XTS besides.

import { describe, expect, test } from "vitest";
import { parseCipherSpec } from "../../../src/filters/luks/cipher-spec.ts";
import { CIPHER_MODE, IV_MODE } from "../../../src/wasm/cipher.ts";

describe("parseCipherSpec", () => {
  test("what qemu-img and cryptsetup make by default: aes-256 xts-plain64 sha256", () => {
    expect(parseCipherSpec("aes", "xts-plain64", "sha256", 64)).toEqual({
      mode: CIPHER_MODE.XTS,
      ivMode: IV_MODE.PLAIN64,
      ivHash: undefined,
      hash: "sha256",
      algorithm: "aes-256",
    });
  });

  test("CBC keys of 128, 192 and 256 bits, XTS keys of twice that", () => {
    expect(parseCipherSpec("aes", "cbc-plain", "sha1", 16).algorithm).toBe("aes-128");
    expect(parseCipherSpec("aes", "cbc-plain", "sha1", 24).algorithm).toBe("aes-192");
    expect(parseCipherSpec("aes", "xts-plain64", "sha1", 32).algorithm).toBe("aes-128");
    expect(parseCipherSpec("aes", "xts-plain64", "sha1", 48).algorithm).toBe("aes-192");
  });

  test("essiv takes an IV hash whose digest is an AES key", () => {
    expect(parseCipherSpec("aes", "cbc-essiv:sha256", "sha1", 32)).toMatchObject({
      ivMode: IV_MODE.ESSIV,
      ivHash: "sha256",
    });
    expect(() => parseCipherSpec("aes", "cbc-essiv", "sha1", 32)).toThrow(
      "incorrect IV generator hash specification",
    );
    expect(() => parseCipherSpec("aes", "cbc-essiv:sha1", "sha1", 32)).toThrow(
      "no AES cipher available with key size 20",
    );
  });

  const refusals: [string, string, string, number, string][] = [
    [
      "aes",
      "ecb",
      "sha256",
      32,
      'incorrect cipher_mode header, expecting mode-ivgenerator but got "ecb"',
    ],
    [
      "aes",
      "xts-plain64:whirlpool",
      "sha256",
      64,
      'unknown hash algorithm: whirlpool (expecting "md5", "sha1", "sha224", etc)',
    ],
    [
      "aes",
      "lrw-plain64",
      "sha256",
      64,
      'unknown cipher mode: lrw (expecting "ecb", "cbc", "xts" or "ctr")',
    ],
    [
      "twofish",
      "xts-plain64",
      "sha256",
      64,
      'unknown cipher algorithm: twofish (expecting "aes", etc)',
    ],
    ["aes", "xts-plain64", "sha256", 40, 'unknown cipher algorithm: aes (expecting "aes", etc)'],
    [
      "aes",
      "xts-plain64",
      "whirlpool",
      64,
      'unknown hash algorithm: whirlpool (expecting "md5", "sha1", "sha224", etc)',
    ],
    [
      "aes",
      "xts-benbi",
      "sha256",
      64,
      'unknown IV generation algorithm: benbi (expecting "plain", "plain64" etc)',
    ],
    ["aes", "ctr-plain64", "sha256", 32, "cipher algorithm aes-256 in mode ctr is not supported"],
    ["aes", "ecb-plain64", "sha256", 16, "cipher algorithm aes-128 in mode ecb is not supported"],
  ];
  for (const [name, mode, hash, keyBytes, message] of refusals) {
    test(`refuses ${name} ${mode} ${hash} with ${keyBytes * 8}-bit key: ${message}`, () => {
      expect(() => parseCipherSpec(name, mode, hash, keyBytes)).toThrow(message);
    });
  }

  test("a bad IV hash is found before a bad mode, as nbdkit checks in that order", () => {
    expect(() => parseCipherSpec("serpent", "lrw-plain64:nohash", "nohash", 64)).toThrow(
      "unknown hash algorithm: nohash",
    );
    expect(() => parseCipherSpec("serpent", "lrw-plain64", "nohash", 64)).toThrow(
      "unknown cipher mode: lrw",
    );
  });
});
