/**
 * XTS decryption of whole sectors with the runtime's native AES (Web Crypto, which uses the
 * CPU's AES instructions where it has them), several times faster than the WebAssembly tables.
 * Web Crypto has no XTS and no ECB, but AES-CBC decryption is ECB decryption in disguise:
 *
 *   X_i = C_i ^ T_i                         (the tweaks, from wasm/cipher.ts: whiten)
 *   R = AES-CBC-decrypt(IV 0, X || pad)     so R_i = D(X_i) ^ X_i-1, with X_-1 = 0
 *   P_i = R_i ^ X_i-1 ^ T_i                 (whiten again, with the previous blocks)
 *
 * where `pad` is the one block that makes X end in valid PKCS#7 padding, which Web Crypto
 * insists on. Encryption has no such disguise (CBC encryption chains), so writes stay in
 * WebAssembly. Costs two buffers of the request's size per request (Web Crypto's input and its
 * answer); AES-192, which some Web Crypto implementations refuse, stays in WebAssembly too.
 */

import { addOffset } from "../../api/offset.ts";
import type { Offset } from "../../api/plugin.ts";
import type { Cipher } from "../../wasm/cipher.ts";

const ZERO_IV = new Uint8Array(16);

export interface NativeXts {
  /** Deciphers `bytes` (whole sectors) in place, as the sectors numbered from `sector` on. */
  decipher(bytes: Uint8Array, sector: Offset): Promise<void>;
}

/**
 * The native path for the XTS data key `dataKey` (the first half of the master key), or
 * undefined when this runtime's Web Crypto will not take it.
 */
export async function nativeXts(
  cipher: Cipher,
  dataKey: Uint8Array,
): Promise<NativeXts | undefined> {
  let key: CryptoKey;
  try {
    key = await crypto.subtle.importKey(
      "raw",
      dataKey as Uint8Array<ArrayBuffer>,
      "AES-CBC",
      false,
      ["decrypt"],
    );
  } catch {
    return undefined;
  }
  return {
    async decipher(bytes, sector) {
      const step = cipher.data.length;
      const sectorsPerStep = step / 512;
      // X, with the padding block after it.
      const whitened = new Uint8Array(bytes.length + 16);
      let at = 0;
      for (let s = sector; at < bytes.length; at += step, s = addOffset(s, sectorsPerStep)) {
        const n = Math.min(step, bytes.length - at);
        cipher.data.set(bytes.subarray(at, at + n));
        cipher.whiten(s, n, false);
        whitened.set(cipher.data.subarray(0, n), at);
        if (at + n === bytes.length) whitened.set(cipher.padBlock(n), bytes.length);
      }
      const chained = new Uint8Array(
        await crypto.subtle.decrypt({ name: "AES-CBC", iv: ZERO_IV }, key, whitened),
      );
      at = 0;
      for (let s = sector; at < bytes.length; at += step, s = addOffset(s, sectorsPerStep)) {
        const n = Math.min(step, bytes.length - at);
        cipher.data.set(chained.subarray(at, at + n));
        if (at === 0) {
          cipher.prev.fill(0, 0, 16);
          cipher.prev.set(whitened.subarray(0, n - 16), 16);
        } else cipher.prev.set(whitened.subarray(at - 16, at + n - 16));
        cipher.whiten(s, n, true);
        bytes.set(cipher.data.subarray(0, n), at);
      }
    },
  };
}
