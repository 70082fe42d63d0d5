/**
 * One connection's reads and writes of the decrypted payload, as nbdkit's luks.c does them:
 * the payload starts `payloadOffset` sectors into the disk, and each 512-byte sector is
 * enciphered on its own with its number from there. A read fills the client's buffer from the
 * layer below and deciphers it in place; a write enciphers into a lent buffer, never changing
 * the caller's. A partial sector at either end is read, deciphered, changed, enciphered and
 * written back while holding a lock every connection of the filter shares (nbdkit's
 * read_modify_write_lock), so two such cycles on one sector cannot interleave.
 */

import type { NextHandle } from "../../api/filter.ts";
import { addOffset } from "../../api/offset.ts";
import type { Offset } from "../../api/plugin.ts";
import { toOffset } from "../../api/parse.ts";
import type { Cipher } from "../../wasm/cipher.ts";
import { misalignment } from "../align.ts";
import { ScratchPool } from "../blocks/scratch-pool.ts";
import type { RwLock } from "../rw-lock.ts";
import { LUKS_SECTOR } from "./header.ts";
import type { NativeXts } from "./native-xts.ts";
import { decipherInPlace, encipherInto } from "./sector-cipher.ts";

/** Reads of fewer bytes decipher in WebAssembly: a Web Crypto call costs more than they do. */
const NATIVE_FROM = 16 * 1024;

/** The number of the sector holding `offset`. */
function sectorOf(offset: Offset): Offset {
  if (typeof offset === "number") return Math.floor(offset / LUKS_SECTOR);
  return toOffset(BigInt(offset) / 512n);
}

/** Byte offset of payload sector `sector` on the disk below. */
function sectorOffset(start: number, sector: Offset): Offset {
  return addOffset(
    start,
    typeof sector === "number" ? sector * LUKS_SECTOR : toOffset(BigInt(sector) * 512n),
  );
}

export class LuksIo {
  readonly #below: NextHandle;
  readonly #cipher: Cipher;
  /** Where the payload starts on the disk below, in bytes. */
  readonly #start: number;
  readonly #lock: RwLock;
  /** Native XTS decryption (native-xts.ts), where the runtime has it for this key. */
  readonly #native: NativeXts | undefined;
  /** One sector each, for partial sectors. */
  readonly #sectors = new ScratchPool(LUKS_SECTOR);
  /** One pass of the cipher's area each, for enciphered data on its way down. */
  readonly #passes: ScratchPool;

  constructor(
    below: NextHandle,
    cipher: Cipher,
    payloadStart: number,
    lock: RwLock,
    native: NativeXts | undefined,
  ) {
    this.#below = below;
    this.#cipher = cipher;
    this.#start = payloadStart;
    this.#lock = lock;
    this.#native = native;
    this.#passes = new ScratchPool(cipher.data.length);
  }

  async readAt(buf: Uint8Array, offset: Offset): Promise<void> {
    const within = misalignment(offset, LUKS_SECTOR);
    let sector = sectorOf(offset);
    let done = 0;
    if (within !== 0) {
      done = Math.min(LUKS_SECTOR - within, buf.length);
      await this.#readPartial(sector, within, buf.subarray(0, done));
      sector = addOffset(sector, 1);
    }
    const whole = buf.length - done - ((buf.length - done) % LUKS_SECTOR);
    if (whole > 0) {
      const body = buf.subarray(done, done + whole);
      await this.#below.readAt(body, sectorOffset(this.#start, sector));
      if (this.#native && whole >= NATIVE_FROM) await this.#native.decipher(body, sector);
      else decipherInPlace(this.#cipher, body, sector);
      done += whole;
      sector = addOffset(sector, whole / LUKS_SECTOR);
    }
    if (done < buf.length) await this.#readPartial(sector, 0, buf.subarray(done));
  }

  async writeAt(buf: Uint8Array, offset: Offset, flags: number): Promise<void> {
    const within = misalignment(offset, LUKS_SECTOR);
    let sector = sectorOf(offset);
    let done = 0;
    if (within !== 0) {
      done = Math.min(LUKS_SECTOR - within, buf.length);
      await this.#rewritePartial(sector, within, buf.subarray(0, done), flags);
      sector = addOffset(sector, 1);
    }
    const whole = buf.length - done - ((buf.length - done) % LUKS_SECTOR);
    if (whole > 0) {
      await this.#writeWhole(buf.subarray(done, done + whole), sector, flags);
      done += whole;
      sector = addOffset(sector, whole / LUKS_SECTOR);
    }
    if (done < buf.length) await this.#rewritePartial(sector, 0, buf.subarray(done), flags);
  }

  /** Whole sectors, enciphered a pass at a time into a lent buffer and written down. */
  async #writeWhole(data: Uint8Array, sector: Offset, flags: number): Promise<void> {
    const out = this.#passes.take();
    try {
      for (let at = 0; at < data.length; at += out.length) {
        const piece = data.subarray(at, Math.min(at + out.length, data.length));
        const enciphered = out.subarray(0, piece.length);
        encipherInto(this.#cipher, piece, enciphered, sector);
        await this.#below.writeAt(enciphered, sectorOffset(this.#start, sector), flags);
        sector = addOffset(sector, piece.length / LUKS_SECTOR);
      }
    } finally {
      this.#passes.give(out);
    }
  }

  /** Part of one sector, from `within`, deciphered into `into`. */
  async #readPartial(sector: Offset, within: number, into: Uint8Array): Promise<void> {
    const block = this.#sectors.take();
    try {
      await this.#below.readAt(block, sectorOffset(this.#start, sector));
      decipherInPlace(this.#cipher, block, sector);
      into.set(block.subarray(within, within + into.length));
    } finally {
      this.#sectors.give(block);
    }
  }

  /** Read-modify-write of one sector: its bytes from `within` become `data`. */
  async #rewritePartial(
    sector: Offset,
    within: number,
    data: Uint8Array,
    flags: number,
  ): Promise<void> {
    const block = this.#sectors.take();
    await this.#lock.write();
    try {
      const at = sectorOffset(this.#start, sector);
      await this.#below.readAt(block, at);
      decipherInPlace(this.#cipher, block, sector);
      block.set(data, within);
      encipherInto(this.#cipher, block, block, sector);
      await this.#below.writeAt(block, at, flags);
    } finally {
      this.#lock.releaseWrite();
      this.#sectors.give(block);
    }
  }
}
