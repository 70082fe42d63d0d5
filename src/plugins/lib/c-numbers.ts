/**
 * Plugin parameters read exactly as nbdkit's C plugins read them, where src/cli/ has no parser
 * for that C function: nbdkit_parse_uint64_t (strtoull with base 0, with nbdkit's messages) and
 * sscanf's "%lf" (strtod: the longest number at the start, whatever follows).
 */

import { ConfigError } from "../../api/errors.ts";

const UINT64_MAX = (1n << 64n) - 1n;

/** C's isspace in the "C" locale: what strtoull and strtod skip first. */
const LEADING_SPACE = /^[ \t\n\v\f\r]*/;

/** nbdkit_parse_uint64_t: "16", "0x10" and "020" are all sixteen; `what` names the parameter. */
export function parseUint64(what: string, text: string): bigint {
  const trimmed = text.replace(LEADING_SPACE, "");
  if (trimmed.startsWith("-")) throw new ConfigError(`${what}: negative numbers are not allowed`);
  // base 0: "0x" and hex digits, or "0" and octal digits, or decimal. "0x" with no hex digit
  // after it is the number 0 followed by garbage, as in C.
  const match = /^\+?(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)/.exec(trimmed);
  if (match === null) throw new ConfigError(`${what}: empty string where we expected a number`);
  const digits = match[1];
  const value = digits.length > 1 && digits[0] === "0" && !/^0[xX]/.test(digits)
    ? BigInt(`0o${digits.slice(1)}`)
    : BigInt(digits);
  if (value > UINT64_MAX) {
    throw new ConfigError(
      `${what}: could not parse number: "${text}": Numerical result out of range`,
    );
  }
  if (trimmed.length > match[0].length) {
    throw new ConfigError(`${what}: could not parse number: "${text}": trailing garbage`);
  }
  return value;
}

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/;
const HEXADECIMAL = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?\d+))?/;
const INFINITY = /^([+-]?)inf(inity)?/i;
const NAN = /^[+-]?nan(\([0-9A-Za-z_]*\))?/i;

/**
 * The number sscanf("%lf") finds at the start of `text`, as strtod reads it (decimal, hex
 * with a binary exponent, inf, nan), ignoring what follows; undefined when there is none.
 */
export function scanDouble(text: string): number | undefined {
  const trimmed = text.replace(LEADING_SPACE, "");
  const hex = HEXADECIMAL.exec(trimmed);
  if (hex !== null && (hex[2] !== "" || (hex[3] ?? "") !== "")) {
    const fraction = hex[3] ?? "";
    const mantissa = Number(BigInt(`0x${hex[2]}${fraction}`));
    const value = mantissa * 2 ** (Number(hex[4] ?? "0") - 4 * fraction.length);
    return hex[1] === "-" ? -value : value;
  }
  const decimal = DECIMAL.exec(trimmed);
  if (decimal !== null) return Number(decimal[0]);
  const infinity = INFINITY.exec(trimmed);
  if (infinity !== null) return infinity[1] === "-" ? -Infinity : Infinity;
  if (NAN.test(trimmed)) return NaN;
  return undefined;
}
