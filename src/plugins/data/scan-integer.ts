/**
 * Integers as nbdkit's data format reads them, with glibc's rules: scanf("%li") for offsets,
 * counts and slices (white space and a sign allowed, base from the prefix, saturating at the
 * long range), and nbdkit_parse_uint16/32/64_t (strtoul, whole text) for le/be words.
 */

import { ConfigError } from "../../api/errors.ts";

const LONG_MIN = -(1n << 63n);
const LONG_MAX = (1n << 63n) - 1n;
const PLUS = 0x2b;
const MINUS = 0x2d;
const ZERO = 0x30;
const LOWER_X = 0x78;
const UPPER_X = 0x58;

/** C's isspace in the "C" locale: space, \t, \n, \v, \f, \r. */
export function isSpace(byte: number): boolean {
  return byte === 0x20 || (byte >= 0x09 && byte <= 0x0d);
}

/** The value of `byte` as a digit in `base`, or -1. */
function digitValue(byte: number, base: number): number {
  let value = -1;
  if (byte >= 0x30 && byte <= 0x39) value = byte - 0x30;
  else if (byte >= 0x61 && byte <= 0x66) value = byte - 0x61 + 10;
  else if (byte >= 0x41 && byte <= 0x46) value = byte - 0x41 + 10;
  return value < base ? value : -1;
}

/** Reads digits of `base` from `at`: their value (unbounded) and where they stop. */
function readDigits(src: Uint8Array, at: number, base: number): { value: bigint; end: number } {
  let value = 0n;
  let end = at;
  const big = BigInt(base);
  for (let digit; end < src.length && (digit = digitValue(src[end], base)) >= 0; end++) {
    value = value * big + BigInt(digit);
  }
  return { value, end };
}

/** A scanned integer and the index just past it. */
export interface Scanned {
  readonly value: bigint;
  readonly end: number;
}

/**
 * What glibc's scanf("%li") reads at `at`, or undefined when it converts nothing. Like glibc
 * it takes "0x" with no hex digit after it as zero, both characters consumed, and saturates
 * out-of-range values at the long range as strtol does.
 */
export function scanLong(src: Uint8Array, at: number): Scanned | undefined {
  let i = at;
  while (i < src.length && isSpace(src[i])) i++;
  let negative = false;
  if (src[i] === PLUS || src[i] === MINUS) negative = src[i++] === MINUS;
  let digits: { value: bigint; end: number };
  if (src[i] === ZERO) {
    if (src[i + 1] === LOWER_X || src[i + 1] === UPPER_X) digits = readDigits(src, i + 2, 16);
    else digits = readDigits(src, i + 1, 8);
  } else {
    digits = readDigits(src, i, 10);
    if (digits.end === i) return undefined;
  }
  const value = negative ? -digits.value : digits.value;
  return {
    value: value < LONG_MIN ? LONG_MIN : value > LONG_MAX ? LONG_MAX : value,
    end: digits.end,
  };
}

/**
 * What scanf("%i") stores in an int: the long value truncated to 32 bits, so "4294967296" is
 * 0 there, as nbdkit 1.32.5 reads it for a BYTE.
 */
export function toCInt(value: bigint): number {
  return Number(BigInt.asIntN(32, value));
}

/**
 * An unsigned word of `bits` bits written as `text` (the whole of it), as
 * nbdkit_parse_uint16_t / _uint32_t / _uint64_t read it, with their messages.
 */
export function parseUnsignedWord(text: string, bits: 16 | 32 | 64): bigint {
  if (/^[ \t\n\v\f\r]*-/.test(text)) {
    throw new ConfigError("data: negative numbers are not allowed");
  }
  const match = /^[ \t\n\v\f\r]*\+?(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)/.exec(text);
  if (match === null) throw new ConfigError("data: empty string where we expected a number");
  const digits = match[1];
  const value = /^0[xX]/.test(digits)
    ? BigInt(digits)
    : digits.length > 1 && digits.startsWith("0")
    ? BigInt(`0o${digits.slice(1)}`)
    : BigInt(digits);
  if (value >= 1n << BigInt(bits)) {
    throw new ConfigError(
      `data: could not parse number: "${text}": Numerical result out of range`,
    );
  }
  if (match[0].length !== text.length) {
    throw new ConfigError(`data: could not parse number: "${text}": trailing garbage`);
  }
  return value;
}
