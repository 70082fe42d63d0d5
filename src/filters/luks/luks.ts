/**
 * The luks filter (man nbdkit-luks-filter): serves the decrypted payload of a LUKSv1 disk,
 * opened with `passphrase=` (the secret, or "-", "-FD", "+FILE": passphrase.ts). Each
 * connection reads the header when it is prepared, as nbdkit's does, unlocks the master key
 * with the passphrase (once per header: key-cache.ts) and keys its own cipher (a WebAssembly
 * instance, wasm/cipher.ts); the size is the disk's less the header and key material before
 * the payload. Like nbdkit's it
 * offers no extents or trim, emulates zero (written as enciphered zeroes) and cache (reads),
 * and advertises 512-byte blocks, though any request works.
 */

import { ConfigError } from "../../api/errors.ts";
import { type Filter, type NextHandle, ZERO_MODE } from "../../api/filter.ts";
import { type BlockSize, CACHE_MODE } from "../../api/plugin.ts";
import { toOffset } from "../../api/parse.ts";
import { debug } from "../../api/debug.ts";
import { VERSION } from "../../api/version.ts";
import type { PluginHost } from "../../io.ts";
import { CIPHER_MODE, createCipher } from "../../wasm/cipher.ts";
import { RwLock } from "../rw-lock.ts";
import { parseCipherSpec } from "./cipher-spec.ts";
import { checkDiskSize, HEADER_SIZE, LUKS_SECTOR, type LuksHeader, parseHeader } from "./header.ts";
import { KeyCache } from "./key-cache.ts";
import { LuksIo } from "./luks-io.ts";
import { nativeXts } from "./native-xts.ts";
import { readPassphrase } from "./passphrase.ts";
import { keyCipher, unlockMasterKey } from "./unlock.ts";

const UINT32_MAX = 0xffff_ffff;

/** nbdkit's block sizes: at least a sector, whatever the layer below says. */
async function blockSizes(below: NextHandle): Promise<BlockSize> {
  const sizes = await below.blockSize();
  if (!sizes || sizes.minimum === 0) {
    return { minimum: LUKS_SECTOR, preferred: LUKS_SECTOR, maximum: UINT32_MAX };
  }
  const minimum = Math.max(sizes.minimum, LUKS_SECTOR);
  return {
    minimum,
    preferred: Math.max(minimum, sizes.preferred, LUKS_SECTOR),
    maximum: sizes.maximum,
  };
}

function describe(header: LuksHeader): void {
  debug(
    `LUKS v1 cipher: ${header.cipherName} mode: ${header.cipherMode} hash: ${header.hashSpec} ` +
      `master key: ${header.keyBytes * 8} bits`,
  );
  debug(`LUKS UUID: ${header.uuid}`);
}

export function createLuksFilter(host?: PluginHost): Filter {
  let passphrase: Uint8Array | undefined;
  /** Shared by every connection, as nbdkit's read_modify_write_lock is. */
  const lock = new RwLock();
  const keys = new KeyCache();
  return {
    name: "luks",
    longname: "nbdts luks filter",
    version: VERSION,
    configHelp: "passphrase=<SECRET>      Secret passphrase.",

    async config(next, key, value) {
      if (key !== "passphrase") return next(key, value);
      passphrase?.fill(0);
      passphrase = await readPassphrase(value, host);
    },

    configComplete(next) {
      if (passphrase === undefined) {
        throw new ConfigError('LUKS "passphrase" parameter is missing');
      }
      return next();
    },

    async unload() {
      passphrase?.fill(0);
      await keys.clear();
    },

    async open(next, readonly, exportName) {
      const below = await next(readonly, exportName);
      const cipher = createCipher();
      let io: LuksIo | undefined;
      let payloadStart = 0;
      return {
        async prepare() {
          const size = BigInt(await below.getSize());
          checkDiskSize(size);
          const bytes = new Uint8Array(HEADER_SIZE);
          await below.readAt(bytes, 0);
          const header = parseHeader(bytes, size);
          const spec = parseCipherSpec(
            header.cipherName,
            header.cipherMode,
            header.hashSpec,
            header.keyBytes,
          );
          describe(header);
          const key = await keys.keyFor(
            bytes,
            () => unlockMasterKey(below, header, spec, passphrase!, cipher),
          );
          await keyCipher(cipher, spec, key);
          debug("LUKS unlocked block device with passphrase");
          const native = spec.mode === CIPHER_MODE.XTS
            ? await nativeXts(cipher, key.subarray(0, key.length / 2))
            : undefined;
          payloadStart = header.payloadOffset * LUKS_SECTOR;
          io = new LuksIo(below, cipher, payloadStart, lock, native);
        },
        async getSize() {
          const size = BigInt(await below.getSize());
          if (size < BigInt(payloadStart)) {
            throw new Error("disk too small, or contains an incomplete LUKS partition");
          }
          return toOffset(size - BigInt(payloadStart));
        },
        canExtents: () => false,
        canTrim: () => false,
        canZero: () => ZERO_MODE.EMULATE,
        canFastZero: () => false,
        canCache: () => CACHE_MODE.EMULATE,
        blockSize: () => blockSizes(below),
        readAt: (buf, offset) => io!.readAt(buf, offset),
        writeAt: (buf, offset, flags) => io!.writeAt(buf, offset, flags),
      };
    },
  };
}
