/**
 * A GNU ddrescue mapfile read as nbdkit's ddrescue filter reads it: comment lines (`#`) are
 * skipped, the first other non-empty line is the status line and skipped too, and each later
 * line "POS SIZE STATUS" (C integers: 0x hex, 0 octal, decimal; any blanks between) that is
 * recovered (`+`) becomes a range; other lines are ignored. Pure: text in, ranges out.
 */

import { ConfigError } from "../api/errors.ts";
import { toOffset } from "../api/parse.ts";
import type { Offset } from "../api/plugin.ts";

/** A recovered range: `start` to `end` inclusive, as nbdkit keeps them. */
export interface Rescued {
  readonly start: Offset;
  readonly end: Offset;
}

const ENTRY =
  /^\s*([+-]?(?:0[xX][0-9a-fA-F]+|0[0-7]*|[1-9]\d*))\s*([+-]?(?:0[xX][0-9a-fA-F]+|0[0-7]*|[1-9]\d*))\s*(\S)/;

/** An integer as strtoll with base 0 reads it. */
function cInteger(text: string): bigint {
  const negative = text.startsWith("-");
  const digits = text.replace(/^[+-]/, "");
  const value = /^0[xX]/.test(digits)
    ? BigInt(digits)
    : digits.length > 1 && digits.startsWith("0")
    ? BigInt(`0o${digits.slice(1)}`)
    : BigInt(digits);
  return negative ? -value : value;
}

export function parseMapfile(text: string): Rescued[] {
  const rescued: Rescued[] = [];
  let statusSeen = false;
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    if (line.length > 0 && !statusSeen) {
      statusSeen = true; // the status line: where ddrescue was, not a range
      continue;
    }
    const match = ENTRY.exec(line);
    if (!match) continue;
    const offset = cInteger(match[1]);
    const length = cInteger(match[2]);
    if (offset < 0n) throw new ConfigError("block offset must not be negative");
    if (length < 0n) throw new ConfigError("block length must not be negative");
    if (match[3] === "+") {
      rescued.push({ start: toOffset(offset), end: toOffset(offset + length - 1n) });
    }
  }
  return rescued;
}
