/**
 * Decodes a LUKSv1 header's cipher fields ("aes", "xts-plain64", "sha256") into what the
 * cipher module and the key derivation need, refusing what nbdkit 1.32.5 refuses with its
 * messages and in its order: the mode must read MODE-IVGEN[:IVHASH], the mode be ecb, cbc,
 * xts or ctr, the cipher aes with a key of 128, 192 or 256 bits (twice that for XTS), the
 * hashes md5, sha1, sha224, sha256, sha384, sha512 or ripemd160, the IV generator plain or
 * plain64. Beyond nbdkit, whose GnuTLS has no ECB, CTR, AES-192 XTS nor ESSIV, this also takes
 * AES-192 in XTS and the essiv generator (with an IV hash whose digest is an AES key: md5 or
 * sha256), as dm-crypt and qemu do; ECB and CTR stay refused.
 */

import { CIPHER_MODE, type CipherMode, IV_MODE, type IvMode } from "../../wasm/cipher.ts";
import { HASHES, type HashName } from "./digest.ts";

export interface CipherSpec {
  readonly mode: CipherMode;
  readonly ivMode: IvMode;
  /** The hash of the ESSIV key, for the essiv generator. */
  readonly ivHash?: HashName;
  /** The hash of PBKDF2 and of the anti-forensic split. */
  readonly hash: HashName;
  /** How nbdkit names the cipher in messages: "aes-256". */
  readonly algorithm: string;
}

const MODES = ["ecb", "cbc", "xts", "ctr"] as const;

function isHash(name: string): name is HashName {
  return Object.hasOwn(HASHES, name);
}

function lookupHash(name: string): HashName {
  if (!isHash(name)) {
    throw new Error(
      `unknown hash algorithm: ${name} (expecting "md5", "sha1", "sha224", etc)`,
    );
  }
  return name;
}

/** The cipher of `name` for a key of `keyBytes` (both halves, for XTS), as "aes-256". */
function lookupAlgorithm(name: string, mode: string, keyBytes: number): string {
  const bytes = mode === "xts" ? Math.floor(keyBytes / 2) : keyBytes;
  if (name === "aes" && (bytes === 16 || bytes === 24 || bytes === 32)) {
    return `aes-${bytes * 8}`;
  }
  throw new Error(`unknown cipher algorithm: ${name} (expecting "aes", etc)`);
}

function lookupIvMode(name: string): IvMode {
  if (name === "plain") return IV_MODE.PLAIN;
  if (name === "plain64") return IV_MODE.PLAIN64;
  if (name === "essiv") return IV_MODE.ESSIV;
  throw new Error(
    `unknown IV generation algorithm: ${name} (expecting "plain", "plain64" etc)`,
  );
}

export function parseCipherSpec(
  cipherName: string,
  cipherMode: string,
  hashSpec: string,
  keyBytes: number,
): CipherSpec {
  const dash = cipherMode.indexOf("-");
  if (dash < 0) {
    throw new Error(
      `incorrect cipher_mode header, expecting mode-ivgenerator but got "${cipherMode}"`,
    );
  }
  const mode = cipherMode.slice(0, dash);
  const [ivName, ivHashName] = splitOnce(cipherMode.slice(dash + 1), ":");
  const ivHash = ivHashName === undefined ? undefined : lookupHash(ivHashName);
  if (!(MODES as readonly string[]).includes(mode)) {
    throw new Error(
      `unknown cipher mode: ${mode} (expecting "ecb", "cbc", "xts" or "ctr")`,
    );
  }
  const algorithm = lookupAlgorithm(cipherName, mode, keyBytes);
  const hash = lookupHash(hashSpec);
  const ivMode = lookupIvMode(ivName);
  if (mode !== "xts" && mode !== "cbc") {
    throw new Error(`cipher algorithm ${algorithm} in mode ${mode} is not supported`);
  }
  if (ivMode === IV_MODE.ESSIV) checkEssivHash(ivHash, algorithm);
  return {
    mode: mode === "xts" ? CIPHER_MODE.XTS : CIPHER_MODE.CBC,
    ivMode,
    ivHash,
    hash,
    algorithm,
  };
}

/** ESSIV enciphers IVs with AES keyed by the IV hash's digest, so that must be an AES key. */
function checkEssivHash(ivHash: HashName | undefined, algorithm: string): void {
  if (ivHash === undefined) throw new Error("incorrect IV generator hash specification");
  const bytes: number = HASHES[ivHash].bytes;
  if (bytes !== 16 && bytes !== 24 && bytes !== 32) {
    throw new Error(`no AES cipher available with key size ${bytes} for ESSIV of ${algorithm}`);
  }
}

function splitOnce(text: string, separator: string): [string, string | undefined] {
  const at = text.indexOf(separator);
  return at < 0 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}
