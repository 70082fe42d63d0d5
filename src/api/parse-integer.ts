/**
 * Integer values read as nbdkit's nbdkit_parse_unsigned, _int, _int64_t and _uint64_t read them
 * (strtoul/strtol with base 0: "16", "0x10" and "020" are all sixteen), with their messages.
 * `what` names the option in the message, as nbdkit's `what` argument does ("threads").
 */

import { ConfigError } from "./errors.ts";

const UINT_MAX = 0xffff_ffffn;
const INT_MIN = -(2n ** 31n);
const INT_MAX = 2n ** 31n - 1n;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/** C's isspace in the "C" locale, which strtol skips before the number. */
const LEADING_SPACE = /^[ \t\n\v\f\r]*/;

/** An unsigned int (0 to 2^32-1); a leading '-' is refused, not wrapped as strtoul would. */
export function parseUnsigned(what: string, text: string): number {
  return Number(parseNonNegative(what, text, UINT_MAX));
}

/** An unsigned 64-bit integer (0 to 2^64-1), as nbdkit_parse_uint64_t reads it. */
export function parseUint64(what: string, text: string): bigint {
  return parseNonNegative(what, text, UINT64_MAX);
}

function parseNonNegative(what: string, text: string, max: bigint): bigint {
  const trimmed = text.replace(LEADING_SPACE, "");
  if (trimmed.startsWith("-")) throw new ConfigError(`${what}: negative numbers are not allowed`);
  return parseInRange(what, text, 0n, max);
}

/** A signed int (-2^31 to 2^31-1). */
export function parseInt32(what: string, text: string): number {
  return Number(parseInRange(what, text, INT_MIN, INT_MAX));
}

/** A signed 64-bit integer, as nbdkit_parse_int64_t reads it. */
export function parseInt64(what: string, text: string): bigint {
  return parseInRange(what, text, INT64_MIN, INT64_MAX);
}

function parseInRange(what: string, text: string, min: bigint, max: bigint): bigint {
  const { value, rest } = scanInteger(text);
  if (value === undefined) {
    throw new ConfigError(`${what}: empty string where we expected a number`);
  }
  if (value < min || value > max) {
    throw new ConfigError(
      `${what}: could not parse number: "${text}": Numerical result out of range`,
    );
  }
  if (rest !== "") {
    throw new ConfigError(`${what}: could not parse number: "${text}": trailing garbage`);
  }
  return value;
}

/**
 * The longest integer prefix strtol accepts with base 0, and what follows it. "0x" not
 * followed by a hex digit is the number 0 followed by "x…", as in C.
 */
function scanInteger(text: string): { value: bigint | undefined; rest: string } {
  const match = /^([ \t\n\v\f\r]*)([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)/.exec(text);
  if (match === null) return { value: undefined, rest: text };
  const digits = match[3];
  const magnitude = /^0[xX]/.test(digits)
    ? BigInt(digits)
    : digits.length > 1 && digits.startsWith("0")
    ? BigInt(`0o${digits.slice(1)}`)
    : BigInt(digits);
  return {
    value: match[2] === "-" ? -magnitude : magnitude,
    rest: text.slice(match[0].length),
  };
}
