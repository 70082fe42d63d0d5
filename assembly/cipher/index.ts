// The cipher module's exports, all taking and returning numbers: JS writes keys into the key
// area and data into the data area (addresses from keyArea() and dataArea()), asks for them to
// be enciphered in place, and copies the result out. One instance holds one cipher set-up.

import { expandKey, inverseSchedule, roundsFor } from "./aes";
import {
  DATA,
  DATA_DEC,
  DATA_ENC,
  DATA_SIZE,
  ESSIV_ENC,
  ESSIV_KEY_OFFSET,
  IV_ESSIV,
  KEYS,
  MODE_XTS,
  PREV,
  TWEAK_ENC,
} from "./layout";
import { configure, padBlock, sectors, whiten } from "./sectors";
import { buildTables } from "./tables";

buildTables();

export function keyArea(): usize {
  return KEYS;
}

export function dataArea(): usize {
  return DATA;
}

export function dataSize(): u32 {
  return DATA_SIZE;
}

export function prevArea(): usize {
  return PREV;
}

/**
 * Sets the cipher up from the key area: `keyBytes` of key (for XTS, two AES keys of half that
 * each: data key, then tweak key), and for ESSIV `essivKeyBytes` of IV key at ESSIV_KEY_OFFSET.
 * Answers false (and changes nothing) when a key length is not one AES takes.
 */
export function setCipher(mode: u32, ivMode: u32, keyBytes: u32, essivKeyBytes: u32): bool {
  const dataKeyBytes = mode == MODE_XTS ? keyBytes / 2 : keyBytes;
  const rounds = roundsFor(dataKeyBytes);
  if (rounds == 0 || (mode == MODE_XTS && keyBytes != 2 * dataKeyBytes)) return false;
  const essivRounds = ivMode == IV_ESSIV ? roundsFor(essivKeyBytes) : 0;
  if (ivMode == IV_ESSIV && essivRounds == 0) return false;
  expandKey(KEYS, dataKeyBytes, DATA_ENC);
  inverseSchedule(DATA_ENC, rounds, DATA_DEC);
  if (mode == MODE_XTS) expandKey(KEYS + dataKeyBytes, dataKeyBytes, TWEAK_ENC);
  if (ivMode == IV_ESSIV) expandKey(KEYS + ESSIV_KEY_OFFSET, essivKeyBytes, ESSIV_ENC);
  configure(mode, ivMode, rounds, rounds, essivRounds);
  // The raw keys are no longer needed here: leave no copy behind.
  memory.fill(KEYS, 0, ESSIV_KEY_OFFSET + 32);
  return true;
}

/**
 * Enciphers `length` bytes of the data area in place as LUKS sectors numbered from
 * sectorHigh·2^32 + sectorLow (two halves, so every sector number stays exact).
 */
export function encrypt(sectorLow: u32, sectorHigh: u32, length: u32): void {
  sectors((<u64> sectorHigh << 32) | sectorLow, length, true);
}

/** Deciphers, as encrypt enciphers. */
export function decrypt(sectorLow: u32, sectorHigh: u32, length: u32): void {
  sectors((<u64> sectorHigh << 32) | sectorLow, length, false);
}

/**
 * XTS only: XORs each block of the data area with its tweak (sectors from
 * sectorHigh·2^32 + sectorLow on), and with the previous-block area when `withPrev` is 1.
 */
export function xtsWhiten(sectorLow: u32, sectorHigh: u32, length: u32, withPrev: u32): void {
  whiten((<u64> sectorHigh << 32) | sectorLow, length, withPrev != 0);
}

/** Writes the CBC padding block after `length` bytes of the data area (sectors.ts padBlock). */
export function cbcPadBlock(length: u32): void {
  padBlock(length);
}
