/**
 * A LUKSv1 disk made in memory with Node's OpenSSL, independently of the luks filter's own
 * code, for unit tests: aes-256-xts-plain64 or aes-*-cbc-plain64, its key slot 0 hashed with any
 * hash OpenSSL has, the master key split into stripes as the LUKS1 format says. Also deciphers
 * the payload of such a disk, to check what the filter wrote. Never judges the filter.
 */

import { createCipheriv, createDecipheriv, createHash, pbkdf2Sync, randomBytes } from "node:crypto";

export interface LuksImageOptions {
  readonly passphrase: string;
  /** "xts" (a 512-bit key: aes-256) or "cbc" (a 256-bit key). */
  readonly mode: "xts" | "cbc";
  readonly hash: string;
  readonly payloadBytes: number;
}

export interface LuksImage {
  /** Header, key material and payload. */
  readonly bytes: Uint8Array;
  readonly payloadOffset: number;
  /** Deciphers `count` bytes of payload at `offset` (whole sectors) from the disk `disk`. */
  decipher(disk: Uint8Array, offset: number, count: number): Uint8Array;
}

const SECTOR = 512;
const STRIPES = 4000;
const MATERIAL_SECTOR = 8;

function ivOf(sector: number): Uint8Array {
  const iv = new Uint8Array(16);
  new DataView(iv.buffer).setBigUint64(0, BigInt(sector), true);
  return iv;
}

/** Enciphers or deciphers whole sectors, numbered from `first`, one OpenSSL call each. */
function sectors(
  algorithm: string,
  key: Uint8Array,
  data: Uint8Array,
  first: number,
  encrypt: boolean,
): Uint8Array {
  const out = new Uint8Array(data.length);
  for (let at = 0; at < data.length; at += SECTOR) {
    const make = encrypt ? createCipheriv : createDecipheriv;
    const cipher = make(algorithm, key, ivOf(first + at / SECTOR)).setAutoPadding(false);
    out.set(cipher.update(data.subarray(at, at + SECTOR)), at);
  }
  return out;
}

/** LUKS1's diffusion H: each digest-sized piece i becomes hash(be32(i) || piece). */
function diffuse(hash: string, block: Uint8Array): Uint8Array {
  const size = createHash(hash).digest().length;
  const out = new Uint8Array(block.length);
  for (let i = 0, at = 0; at < block.length; i++, at += size) {
    const piece = block.subarray(at, at + size);
    const index = new Uint8Array(4);
    new DataView(index.buffer).setUint32(0, i);
    out.set(createHash(hash).update(index).update(piece).digest().subarray(0, piece.length), at);
  }
  return out;
}

export function luksImage(options: LuksImageOptions): LuksImage {
  const keyBytes = options.mode === "xts" ? 64 : 32;
  const algorithm = options.mode === "xts" ? "aes-256-xts" : "aes-256-cbc";
  const masterKey = randomBytes(keyBytes);
  const mkSalt = randomBytes(32);
  const slotSalt = randomBytes(32);
  // AF-split: random stripes, and a last one that merges them back into the master key.
  const split = new Uint8Array(keyBytes * STRIPES);
  let d: Uint8Array = new Uint8Array(keyBytes);
  for (let s = 0; s < STRIPES - 1; s++) {
    const stripe = randomBytes(keyBytes);
    split.set(stripe, s * keyBytes);
    d = diffuse(options.hash, d.map((byte, i) => byte ^ stripe[i]));
  }
  split.set(d.map((byte, i) => byte ^ masterKey[i]), (STRIPES - 1) * keyBytes);
  const derived = pbkdf2Sync(options.passphrase, slotSalt, 1000, keyBytes, options.hash);
  const material = sectors(algorithm, derived, split, 0, true);
  const materialSectors = Math.ceil(material.length / SECTOR / 8) * 8;
  const payloadOffset = (MATERIAL_SECTOR + materialSectors) * SECTOR;

  const bytes = new Uint8Array(payloadOffset + options.payloadBytes);
  const view = new DataView(bytes.buffer);
  const text = (at: number, value: string) => bytes.set(new TextEncoder().encode(value), at);
  bytes.set([0x4c, 0x55, 0x4b, 0x53, 0xba, 0xbe]);
  view.setUint16(6, 1);
  text(8, "aes");
  text(40, `${options.mode}-plain64`);
  text(72, options.hash);
  view.setUint32(104, payloadOffset / SECTOR);
  view.setUint32(108, keyBytes);
  bytes.set(pbkdf2Sync(masterKey, mkSalt, 1000, 20, options.hash), 112);
  bytes.set(mkSalt, 132);
  view.setUint32(164, 1000);
  text(168, "00000000-0000-0000-0000-000000000000");
  for (let slot = 0; slot < 8; slot++) view.setUint32(208 + 48 * slot, 0x0000dead);
  view.setUint32(208, 0x00ac71f3);
  view.setUint32(212, 1000);
  bytes.set(slotSalt, 216);
  view.setUint32(248, MATERIAL_SECTOR);
  view.setUint32(252, STRIPES);
  bytes.set(material, MATERIAL_SECTOR * SECTOR);
  // A payload of zeroes, enciphered.
  bytes.set(
    sectors(algorithm, masterKey, new Uint8Array(options.payloadBytes), 0, true),
    payloadOffset,
  );
  return {
    bytes,
    payloadOffset,
    decipher: (disk, offset, count) =>
      sectors(
        algorithm,
        masterKey,
        disk.subarray(payloadOffset + offset, payloadOffset + offset + count),
        offset / SECTOR,
        false,
      ),
  };
}
