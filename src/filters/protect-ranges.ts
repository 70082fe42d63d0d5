/**
 * The protect filter's ranges (man nbdkit-protect-filter): parses `START-END` (inclusive, either
 * side may be empty: from 0, to the end) and `~START-END` (everything outside it), merges
 * overlapping and adjacent ranges in offset order, and finds the protected bytes of a request.
 * A request that touches no range is answered without allocating anything.
 */

import { ConfigError } from "../api/errors.ts";
import { parseUint64 } from "../api/parse-integer.ts";
import type { Offset } from "../api/plugin.ts";

/** The end of a range given without one: the last byte any disk can have. */
const LAST_BYTE = (1n << 63n) - 1n;

/** Bytes start to end, both included; `description` is the text the user gave. */
export interface ProtectedRange {
  readonly start: bigint;
  readonly end: bigint;
  readonly description: string;
}

/** The ranges one `protect=` value means: one, or for `~START-END` none, one or two. */
export function parseProtectRange(value: string): ProtectedRange[] {
  const negated = value.startsWith("~");
  const text = negated ? value.slice(1) : value;
  const dash = text.indexOf("-");
  if (dash < 0) throw new ConfigError(`cannot parse range, missing '-': ${value}`);
  const startText = text.slice(0, dash);
  const endText = text.slice(dash + 1);
  const start = startText === "" ? 0n : parseUint64("range", startText);
  const end = endText === "" ? LAST_BYTE : parseUint64("range", endText);
  if (end < start) throw new ConfigError(`invalid range, end < start: ${value}`);
  if (!negated) return [{ start, end, description: value }];
  const outside: ProtectedRange[] = [];
  if (start > 0n) outside.push({ start: 0n, end: start - 1n, description: value });
  if (end < LAST_BYTE) outside.push({ start: end + 1n, end: LAST_BYTE, description: value });
  return outside;
}

/**
 * The ranges in offset order, overlapping or adjacent ones merged into one named after its
 * first. (nbdkit 1.32.5 merges a range into one inside it by taking the inner end, leaving the
 * rest of the outer range unprotected: protect=0-100 protect=10-20 lets byte 50 be written.
 * Here the merged range keeps the farther end.)
 */
export function mergeRanges(ranges: readonly ProtectedRange[]): ProtectedRange[] {
  const sorted = [...ranges].sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const merged: ProtectedRange[] = [];
  for (const range of sorted) {
    const last = merged.at(-1);
    if (last !== undefined && range.start <= last.end + 1n) {
      if (range.end > last.end) merged[merged.length - 1] = { ...last, end: range.end };
    } else {
      merged.push(range);
    }
  }
  return merged;
}

/** The protected part of a request: `length` bytes from `skip` bytes into it. */
export interface ProtectedPiece {
  readonly skip: number;
  readonly length: number;
  readonly range: ProtectedRange;
}

/** Merged ranges, with number copies of their bounds for requests at number offsets. */
export class ProtectedRanges {
  readonly ranges: readonly ProtectedRange[];
  // Number(bound) rounds only bounds past 2^53, never across a safe integer, so comparing
  // them with a request's safe-integer first and last bytes gives the exact answer.
  private readonly starts: Float64Array;
  private readonly ends: Float64Array;

  constructor(merged: readonly ProtectedRange[]) {
    this.ranges = merged;
    this.starts = Float64Array.from(merged, (range) => Number(range.start));
    this.ends = Float64Array.from(merged, (range) => Number(range.end));
  }

  /** Whether any byte of `count` bytes at `offset` is protected. */
  touches(offset: Offset, count: number): boolean {
    const last = typeof offset === "number" ? offset + count - 1 : NaN;
    if (!Number.isSafeInteger(last)) return this.piecesOf(offset, count).length > 0;
    const first = offset as number;
    for (let i = 0; i < this.starts.length && this.starts[i] <= last; i++) {
      if (this.ends[i] >= first) return true;
    }
    return false;
  }

  /** The protected pieces of `count` bytes at `offset`, in order. */
  piecesOf(offset: Offset, count: number): ProtectedPiece[] {
    const first = BigInt(offset);
    const last = first + BigInt(count) - 1n;
    const pieces: ProtectedPiece[] = [];
    for (const range of this.ranges) {
      if (range.start > last) break;
      if (range.end < first) continue;
      const from = range.start > first ? range.start : first;
      const to = range.end < last ? range.end : last;
      pieces.push({ skip: Number(from - first), length: Number(to - from + 1n), range });
    }
    return pieces;
  }
}
