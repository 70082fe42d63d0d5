/**
 * The two literals of the data format that become bytes: "STRING" with C escapes, and
 * le16:/be16:/le32:/be32:/le64:/be64: words. Each reads from the expression's UTF-8 bytes
 * and returns the bytes and where the literal ends; mistakes are ConfigErrors in nbdkit's words.
 */

import { ConfigError } from "../../api/errors.ts";
import { isSpace, parseUnsignedWord } from "./scan-integer.ts";

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** What a backslash and this letter stand for in a string, as in C. */
const ESCAPES: Readonly<Record<string, number>> = {
  a: 0x07,
  b: 0x08,
  f: 0x0c,
  n: 0x0a,
  r: 0x0d,
  t: 0x09,
  v: 0x0b,
};

/** The bytes of a literal and the index just past it. */
export interface Literal {
  readonly bytes: Uint8Array;
  readonly end: number;
}

/**
 * Reads a string whose opening quote is just before `at`. Escapes: \a \b \f \n \r \t \v \\ \"
 * and \xNN; any other escaped character stands for itself, but \0-\9 and \u are refused (not
 * implemented in nbdkit either).
 */
export function readQuoted(src: Uint8Array, at: number): Literal {
  // The string is no longer than the text up to the closing quote (escapes only shorten it).
  let close = at;
  while (close < src.length && src[close] !== QUOTE) close += src[close] === BACKSLASH ? 2 : 1;
  const out = new Uint8Array(Math.min(close, src.length) - at);
  let length = 0;
  for (let i = at; i < src.length; i++) {
    let byte = src[i];
    if (byte === QUOTE) return { bytes: out.slice(0, length), end: i + 1 };
    if (byte === BACKSLASH) {
      if (++i === src.length) break;
      byte = src[i];
      const letter = String.fromCharCode(byte);
      if (letter === "x") {
        if (i + 2 >= src.length) break;
        const hex = String.fromCharCode(src[i + 1], src[i + 2]);
        if (!/^[0-9a-fA-F]{2}$/.test(hex)) {
          throw new ConfigError(
            "data: \\xNN must be followed by exactly two hexadecimal characters",
          );
        }
        byte = parseInt(hex, 16);
        i += 2;
      } else if (/^[0-9u]$/.test(letter)) {
        throw new ConfigError(
          "data: string numeric and unicode sequences are not yet implemented",
        );
      } else {
        byte = ESCAPES[letter] ?? byte;
      }
    }
    out[length++] = byte;
  }
  throw new ConfigError("data parameter: unterminated string");
}

const WORD_PREFIX = /^(le|be)(16|32|64):/;
const decoder = new TextDecoder();

/**
 * Reads a word such as "le32:0x1234" starting at `at`. The word runs to the next white space,
 * so "le16:1*2" is the number "1*2" (refused), as in nbdkit: write "le16:1 *2".
 */
export function readWord(src: Uint8Array, at: number): Literal {
  let end = at;
  while (end < src.length && !isSpace(src[end])) end++;
  const text = decoder.decode(src.subarray(at, end));
  const prefix = WORD_PREFIX.exec(text);
  if (prefix === null) {
    throw new ConfigError(
      `data parameter: expected "le16/32/64:" or "be16/32/64:" at offset ${end}`,
    );
  }
  const bits = Number(prefix[2]) as 16 | 32 | 64;
  let value = parseUnsignedWord(text.slice(prefix[0].length), bits);
  const bytes = new Uint8Array(bits / 8);
  for (let k = 0; k < bytes.length; k++, value >>= 8n) {
    const index = prefix[1] === "le" ? k : bytes.length - 1 - k;
    bytes[index] = Number(value & 0xffn);
  }
  return { bytes, end };
}
