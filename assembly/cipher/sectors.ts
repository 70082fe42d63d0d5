// LUKS's sector ciphers over the DATA area: each 512-byte sector is enciphered on its own,
// with an IV made from its number (dm-crypt's plain, plain64 and essiv), in XTS or CBC mode;
// ECB ignores the IV. A run may end in a short sector (a key slot's material need not fill its
// last one), which must still be a whole number of blocks.
//
// XTS (IEEE 1619): T = E_K2(IV); block j is E_K1(P ^ T_j) ^ T_j, with T_j+1 = T_j · α, the
// tweak a 128-bit little-endian number doubled modulo x^128 + x^7 + x^2 + x + 1:
//
//   lo, hi = tweak as two u64        carry = hi >> 63
//   hi = hi << 1 | lo >> 63          lo = lo << 1 ^ (0x87 if carry)
//
// CBC: C_j = E(P_j ^ C_j-1) with C_-1 = IV, so decryption is P_j = D(C_j) ^ C_j-1.

import { decryptBlock, encryptBlock } from "./aes";
import {
  BLOCK_SIZE,
  DATA,
  DATA_DEC,
  DATA_ENC,
  ESSIV_ENC,
  IV,
  IV_ESSIV,
  IV_PLAIN,
  MODE_CBC,
  MODE_XTS,
  PREV,
  SECTOR_SIZE,
  TWEAK_ENC,
} from "./layout";

/** How the module was set up (setCipher in index.ts). */
export let mode: u32 = 0;
export let ivMode: u32 = 0;
export let dataRounds: u32 = 0;
export let tweakRounds: u32 = 0;
export let essivRounds: u32 = 0;

export function configure(
  cipherMode: u32,
  ivGenerator: u32,
  rounds: u32,
  tweak: u32,
  essiv: u32,
): void {
  mode = cipherMode;
  ivMode = ivGenerator;
  dataRounds = rounds;
  tweakRounds = tweak;
  essivRounds = essiv;
}

/** Writes sector `sector`'s IV at IV: its number little-endian, then zeroes; ESSIV enciphers it. */
function makeIv(sector: u64): void {
  store<u64>(IV, ivMode == IV_PLAIN ? sector & 0xffffffff : sector);
  store<u64>(IV, 0, 8);
  if (ivMode == IV_ESSIV) encryptBlock(ESSIV_ENC, essivRounds, IV);
}

/** XORs the 128-bit value hi:lo into the block at `at`. */
// @ts-ignore: decorator

function xorBlock(at: usize, lo: u64, hi: u64): void {
  store<u64>(at, load<u64>(at) ^ lo);
  store<u64>(at, load<u64>(at, 8) ^ hi, 8);
}

/** XTS over `length` bytes at `at`, one data unit, in place. */
function xts(at: usize, length: u32, encrypt: bool): void {
  encryptBlock(TWEAK_ENC, tweakRounds, IV);
  let lo = load<u64>(IV);
  let hi = load<u64>(IV, 8);
  const end = at + length;
  for (; at < end; at += BLOCK_SIZE) {
    xorBlock(at, lo, hi);
    if (encrypt) encryptBlock(DATA_ENC, dataRounds, at);
    else decryptBlock(DATA_DEC, dataRounds, at);
    xorBlock(at, lo, hi);
    const carry = hi >> 63;
    hi = (hi << 1) | (lo >> 63);
    lo = (lo << 1) ^ (0x87 & (0 - carry));
  }
}

function cbcEncrypt(at: usize, length: u32): void {
  let lo = load<u64>(IV);
  let hi = load<u64>(IV, 8);
  const end = at + length;
  for (; at < end; at += BLOCK_SIZE) {
    xorBlock(at, lo, hi);
    encryptBlock(DATA_ENC, dataRounds, at);
    lo = load<u64>(at);
    hi = load<u64>(at, 8);
  }
}

function cbcDecrypt(at: usize, length: u32): void {
  let lo = load<u64>(IV);
  let hi = load<u64>(IV, 8);
  const end = at + length;
  for (; at < end; at += BLOCK_SIZE) {
    const nextLo = load<u64>(at);
    const nextHi = load<u64>(at, 8);
    decryptBlock(DATA_DEC, dataRounds, at);
    xorBlock(at, lo, hi);
    lo = nextLo;
    hi = nextHi;
  }
}

function ecb(at: usize, length: u32, encrypt: bool): void {
  const end = at + length;
  for (; at < end; at += BLOCK_SIZE) {
    if (encrypt) encryptBlock(DATA_ENC, dataRounds, at);
    else decryptBlock(DATA_DEC, dataRounds, at);
  }
}

/**
 * Enciphers (or deciphers) `length` bytes of DATA as the sectors numbered from `sector` on,
 * in place. `length` must be a multiple of 16 no larger than DATA_SIZE.
 */
export function sectors(sector: u64, length: u32, encrypt: bool): void {
  for (let done: u32 = 0; done < length; done += SECTOR_SIZE) {
    const at = DATA + done;
    const n = min(SECTOR_SIZE, length - done);
    makeIv(sector++);
    if (mode == MODE_XTS) xts(at, n, encrypt);
    else if (mode == MODE_CBC) {
      if (encrypt) cbcEncrypt(at, n);
      else cbcDecrypt(at, n);
    } else ecb(at, n, encrypt);
  }
}

/**
 * XORs each block of `length` bytes of DATA (sectors numbered from `sector` on) with its XTS
 * tweak, and with the block of PREV at the same place when `withPrev`: the two steps around a
 * bulk decryption done elsewhere (Web Crypto's AES-CBC, see src/filters/luks/native-xts.ts).
 */
export function whiten(sector: u64, length: u32, withPrev: bool): void {
  for (let done: u32 = 0; done < length; done += SECTOR_SIZE) {
    makeIv(sector++);
    encryptBlock(TWEAK_ENC, tweakRounds, IV);
    let lo = load<u64>(IV);
    let hi = load<u64>(IV, 8);
    const end = DATA + min(length, done + SECTOR_SIZE);
    for (let at = DATA + done; at < end; at += BLOCK_SIZE) {
      const prev = PREV + (at - DATA);
      if (withPrev) xorBlock(at, lo ^ load<u64>(prev), hi ^ load<u64>(prev, 8));
      else xorBlock(at, lo, hi);
      const carry = hi >> 63;
      hi = (hi << 1) | (lo >> 63);
      lo = (lo << 1) ^ (0x87 & (0 - carry));
    }
  }
}

/**
 * Writes after the `length` bytes of DATA the block that makes them end in valid PKCS#7
 * padding for a CBC decryption: E(16 × 0x10 XOR the last block), with the data key.
 */
export function padBlock(length: u32): void {
  const pad = DATA + length;
  const last = pad - BLOCK_SIZE;
  store<u64>(pad, load<u64>(last) ^ 0x1010101010101010);
  store<u64>(pad, load<u64>(last, 8) ^ 0x1010101010101010, 8);
  encryptBlock(DATA_ENC, dataRounds, pad);
}
