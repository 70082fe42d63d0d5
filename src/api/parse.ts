/**
 * Parsers for plugin parameters, matching nbdkit's nbdkit_parse_size and nbdkit_parse_bool:
 * "512", "4k", "1G", "8s" (512-byte sectors), up to 2^63-1; "on"/"off", "yes"/"no" …
 * They run at start-up, never per request, so BigInt is fine here.
 */

import { ConfigError } from "./errors.ts";
import type { Offset } from "./plugin.ts";

const MAX_SIZE = (1n << 63n) - 1n;

/** Multiplier for each suffix; powers of 1024, and "s" for 512-byte sectors. */
const SCALE: Readonly<Record<string, bigint>> = {
  "": 1n,
  b: 1n,
  s: 512n,
  k: 1n << 10n,
  m: 1n << 20n,
  g: 1n << 30n,
  t: 1n << 40n,
  p: 1n << 50n,
  e: 1n << 60n,
};

/** Parses a size as nbdkit does; throws ConfigError naming the text on anything else. */
export function parseSize(text: string): bigint {
  const match = /^\s*\+?(\d+)([a-zA-Z]?)$/.exec(text);
  if (!match) {
    if (/^\s*-\d/.test(text)) throw new ConfigError(`size cannot be negative (${text})`);
    throw new ConfigError(`could not parse size string (${text})`);
  }
  const scale = SCALE[match[2].toLowerCase()];
  if (scale === undefined) {
    throw new ConfigError(`could not parse size: unknown suffix '${match[2]}'`);
  }
  const bytes = BigInt(match[1]) * scale;
  if (bytes > MAX_SIZE) throw new ConfigError(`size (${text}) exceeds maximum value`);
  return bytes;
}

/** An exact size or offset in the plugin API's form: `number` when it is safe, else `bigint`. */
export function toOffset(value: bigint): Offset {
  return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
}

const TRUE_WORDS = new Set(["1", "true", "t", "yes", "y", "on"]);
const FALSE_WORDS = new Set(["0", "false", "f", "no", "n", "off"]);

/** Parses a boolean as nbdkit_parse_bool does (case-insensitive words). */
export function parseBool(text: string): boolean {
  const word = text.toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  throw new ConfigError(`could not decipher boolean (${text})`);
}
