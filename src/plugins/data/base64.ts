/**
 * Decodes the base64= parameter as strictly as nbdkit's (GnuTLS) decoder: the standard
 * alphabet, white space ignored anywhere, padding required and only at the end, unused bits
 * zero. atob would accept what nbdkit refuses ("MTI", "TR=="), so this does not use it.
 */

import { ConfigError } from "../../api/errors.ts";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const VALUE = new Map([...ALPHABET].map((char, value) => [char, value]));

function fail(reason: string): ConfigError {
  return new ConfigError(`base64: Base64 decoding error: ${reason}`);
}

export function decodeBase64(text: string): Uint8Array {
  const chars = text.replace(/[ \t\n\v\f\r]/g, "");
  if (chars.length % 4 !== 0) throw fail("the length is not a multiple of 4 characters");
  const padding = chars.endsWith("==") ? 2 : chars.endsWith("=") ? 1 : 0;
  const out = new Uint8Array((chars.length / 4) * 3 - padding);
  let bits = 0;
  let held = 0;
  let length = 0;
  for (let i = 0; i < chars.length - padding; i++) {
    const value = VALUE.get(chars[i]);
    if (value === undefined) throw fail(`invalid character '${chars[i]}' at position ${i}`);
    bits = (bits << 6) | value;
    held += 6;
    if (held >= 8) {
      held -= 8;
      out[length++] = (bits >> held) & 0xff;
      bits &= (1 << held) - 1;
    }
  }
  if (bits !== 0) throw fail("the last character has unused bits set");
  return out;
}
