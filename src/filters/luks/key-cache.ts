/**
 * Remembers the master key unlocked for a LUKS header, so that later connections to the same
 * disk skip the key slots' PBKDF2 (calibrated to take a second or more each): nbdkit unlocks
 * anew for every connection, and nbdcopy opens four. The key is a function of the header's
 * bytes, the key material and the passphrase; a header that differs in any byte (another
 * disk, a slot added or removed) is unlocked again. Connections that arrive while an unlock
 * runs wait for it; a failed unlock is not remembered, so the next connection tries again.
 */

import { sameBytes } from "../same-bytes.ts";

export class KeyCache {
  #header: Uint8Array | undefined;
  #key: Promise<Uint8Array> | undefined;

  /** The master key for the header `bytes`: remembered, or from `unlock()`. Do not change it. */
  keyFor(bytes: Uint8Array, unlock: () => Promise<Uint8Array>): Promise<Uint8Array> {
    if (this.#key && this.#header && sameBytes(this.#header, bytes)) return this.#key;
    const key = unlock();
    this.#header = bytes.slice();
    this.#key = key;
    key.catch(() => {
      if (this.#key === key) this.#key = this.#header = undefined;
    });
    return key;
  }

  /** Overwrites the remembered key, once nothing can use it any more (unload). */
  async clear(): Promise<void> {
    const key = this.#key;
    this.#key = this.#header = undefined;
    (await key?.catch(() => undefined))?.fill(0);
  }
}
