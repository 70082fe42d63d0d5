/**
 * Instantiates the cipher WebAssembly module (assembly/cipher/index.ts) from its embedded
 * bytes, synchronously and without a file system: AES in XTS, CBC or ECB mode over LUKS
 * sectors, with plain, plain64 or ESSIV IVs. Each call makes an independent instance holding
 * one cipher set-up, with its own small memory that never grows, so its views stay valid.
 */

import { cipherWasmBytes } from "../../build/cipher-wasm.ts";

/** Block cipher modes (assembly/cipher/layout.ts MODE_*). */
export const CIPHER_MODE = { ECB: 0, CBC: 1, XTS: 2 } as const;
export type CipherMode = (typeof CIPHER_MODE)[keyof typeof CIPHER_MODE];

/** IV generators (assembly/cipher/layout.ts IV_*): dm-crypt's plain, plain64 and essiv. */
export const IV_MODE = { PLAIN: 0, PLAIN64: 1, ESSIV: 2 } as const;
export type IvMode = (typeof IV_MODE)[keyof typeof IV_MODE];

/** Bytes of one LUKS sector, the unit IVs count. */
export const CIPHER_SECTOR_SIZE = 512;

/** The module's exports; every one takes and returns numbers. */
interface CipherExports {
  readonly memory: WebAssembly.Memory;
  keyArea(): number;
  dataArea(): number;
  dataSize(): number;
  setCipher(mode: number, ivMode: number, keyBytes: number, essivKeyBytes: number): number;
  encrypt(sectorLow: number, sectorHigh: number, length: number): void;
  decrypt(sectorLow: number, sectorHigh: number, length: number): void;
  prevArea(): number;
  xtsWhiten(sectorLow: number, sectorHigh: number, length: number, withPrev: number): void;
  cbcPadBlock(length: number): void;
}

/** One cipher set-up and the area its data passes through. */
export interface Cipher {
  /**
   * The area data is enciphered in, `dataSize` bytes: copy in, call encrypt or decrypt, copy
   * out. A view of this instance's memory, valid for its whole life.
   */
  readonly data: Uint8Array;
  /**
   * Sets the key (for XTS, the data key then the tweak key) and, for ESSIV, the IV key.
   * Throws RangeError when AES takes no such key. The module keeps no copy of the raw keys.
   */
  setKey(mode: CipherMode, ivMode: IvMode, key: Uint8Array, essivKey?: Uint8Array): void;
  /**
   * Enciphers the first `length` bytes of `data` in place as the sectors numbered from
   * `sector` on; `length` a multiple of 16, at most data.length.
   */
  encrypt(sector: number | bigint, length: number): void;
  decrypt(sector: number | bigint, length: number): void;
  /**
   * For a bulk decryption done elsewhere (Web Crypto's AES-CBC): the area of the block before
   * each block of `data`, as long as `data`.
   */
  readonly prev: Uint8Array;
  /**
   * XTS only: XORs the first `length` bytes of `data` with their tweaks (sectors from `sector`
   * on), and with the blocks of `prev` at the same places when `withPrev`.
   */
  whiten(sector: number | bigint, length: number, withPrev: boolean): void;
  /**
   * The block to put after the first `length` bytes of `data` (at least one block) for an
   * AES-CBC decryption of them to end in valid PKCS#7 padding: E(16 × 0x10 XOR their last
   * block) with the data key. A view of memory, valid until the next call.
   */
  padBlock(length: number): Uint8Array;
}

/** Where the ESSIV key goes in the key area (assembly/cipher/layout.ts ESSIV_KEY_OFFSET). */
const ESSIV_KEY_OFFSET = 64;

let compiled: WebAssembly.Module | undefined;

/** The compiled module, compiled once per program run, when the first instance is made. */
function cipherModule(): WebAssembly.Module {
  compiled ??= new WebAssembly.Module(cipherWasmBytes());
  return compiled;
}

/** The module's call for a sector number given as two u32 halves, exact up to 2^64 - 1. */
type SectorCall = (sectorLow: number, sectorHigh: number, length: number) => void;

function callWithSector(call: SectorCall, sector: number | bigint, length: number): void {
  if (typeof sector === "number") call(sector >>> 0, Math.floor(sector / 2 ** 32), length);
  else call(Number(sector & 0xffffffffn), Number(sector >> 32n), length);
}

export function createCipher(): Cipher {
  const instance = new WebAssembly.Instance(cipherModule(), {});
  const wasm = instance.exports as unknown as CipherExports;
  const heap = new Uint8Array(wasm.memory.buffer);
  const data = heap.subarray(wasm.dataArea(), wasm.dataArea() + wasm.dataSize());
  const checked = (length: number) => {
    if (length % 16 !== 0 || length > data.length || length < 0) {
      throw new RangeError(`Cannot encipher ${length} bytes: not whole AES blocks in the area`);
    }
    return length;
  };
  const prev = heap.subarray(wasm.prevArea(), wasm.prevArea() + wasm.dataSize());
  return {
    data,
    prev,
    setKey(mode, ivMode, key, essivKey) {
      const keys = heap.subarray(wasm.keyArea(), wasm.keyArea() + 128);
      if (key.length > ESSIV_KEY_OFFSET || (essivKey?.length ?? 0) > 32) {
        throw new RangeError(`Cannot use a ${key.length * 8}-bit key: AES takes none so long`);
      }
      keys.set(key);
      if (essivKey) keys.set(essivKey, ESSIV_KEY_OFFSET);
      if (!wasm.setCipher(mode, ivMode, key.length, essivKey?.length ?? 0)) {
        keys.fill(0);
        throw new RangeError(`Cannot use a ${key.length * 8}-bit key: AES takes no such key`);
      }
    },
    encrypt: (sector, length) => callWithSector(wasm.encrypt, sector, checked(length)),
    decrypt: (sector, length) => callWithSector(wasm.decrypt, sector, checked(length)),
    whiten(sector, length, withPrev) {
      const flag = withPrev ? 1 : 0;
      const at = checked(length);
      if (typeof sector === "number") {
        wasm.xtsWhiten(sector >>> 0, Math.floor(sector / 2 ** 32), at, flag);
      } else wasm.xtsWhiten(Number(sector & 0xffffffffn), Number(sector >> 32n), at, flag);
    },
    padBlock(length) {
      if (checked(length) < 16) throw new RangeError("Cannot pad an empty run of blocks");
      wasm.cbcPadBlock(length);
      const at = wasm.dataArea() + length;
      return heap.subarray(at, at + 16);
    },
  };
}
