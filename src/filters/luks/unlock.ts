/**
 * Finds the master key of a LUKSv1 disk from a passphrase, as nbdkit's luks filter does: each
 * enabled key slot in turn derives a key from the passphrase (PBKDF2 with the slot's salt and
 * iterations), deciphers the slot's key material with it (sectors numbered from 0), merges the
 * stripes (af-merge.ts), and the result is the master key when its PBKDF2 digest with the
 * header's salt and iterations is the header's digest.
 */

import type { NextHandle } from "../../api/filter.ts";
import { type Cipher, IV_MODE } from "../../wasm/cipher.ts";
import { sameBytes } from "../same-bytes.ts";
import { afMerge } from "./af-merge.ts";
import type { CipherSpec } from "./cipher-spec.ts";
import { digest, pbkdf2 } from "./digest.ts";
import { type KeySlot, LUKS_SECTOR, type LuksHeader } from "./header.ts";
import { decipherInPlace } from "./sector-cipher.ts";

/** Bytes of the master key digest in the header. */
const DIGEST_SIZE = 20;

/** Keys `cipher` with `key` as the disk's cipher wants it, the ESSIV key made from it. */
export async function keyCipher(cipher: Cipher, spec: CipherSpec, key: Uint8Array) {
  const essivKey = spec.ivMode === IV_MODE.ESSIV ? await digest(spec.ivHash!, key) : undefined;
  cipher.setKey(spec.mode, spec.ivMode, key, essivKey);
}

/** The master key if the passphrase opens `slot`, else undefined. */
async function tryKeySlot(
  below: NextHandle,
  header: LuksHeader,
  spec: CipherSpec,
  slot: KeySlot,
  passphrase: Uint8Array,
  cipher: Cipher,
): Promise<Uint8Array | undefined> {
  const { keyBytes } = header;
  const derived = await pbkdf2(spec.hash, passphrase, slot.salt, slot.iterations, keyBytes);
  // The split key is whole sectors on disk; read it up to whole AES blocks.
  const splitBytes = keyBytes * slot.stripes;
  const material = new Uint8Array(Math.ceil(splitBytes / 16) * 16);
  await below.readAt(material, slot.keyMaterialOffset * LUKS_SECTOR);
  await keyCipher(cipher, spec, derived);
  derived.fill(0);
  decipherInPlace(cipher, material, 0);
  const candidate = await afMerge(spec.hash, material, keyBytes, slot.stripes);
  material.fill(0);
  const check = await pbkdf2(
    spec.hash,
    candidate,
    header.mkDigestSalt,
    header.mkDigestIterations,
    DIGEST_SIZE,
  );
  if (sameBytes(check, header.mkDigest)) return candidate;
  candidate.fill(0);
  return undefined;
}

/** The master key, or nbdkit's error when no key slot opens with the passphrase. */
export async function unlockMasterKey(
  below: NextHandle,
  header: LuksHeader,
  spec: CipherSpec,
  passphrase: Uint8Array,
  cipher: Cipher,
): Promise<Uint8Array> {
  for (const slot of header.slots) {
    const key = await tryKeySlot(below, header, spec, slot, passphrase, cipher);
    if (key) return key;
  }
  throw new Error("LUKS passphrase is not correct, no key slot could be unlocked");
}
