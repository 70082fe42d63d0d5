/**
 * Reads an extent list file as nbdkit's extentlist filter does: one `offset length [type]`
 * per line, fields split by spaces or tabs, sizes in nbdkit's size syntax, the type a number
 * (C's %u: "-1" is 4294967295, "3x" is 3) or words containing "hole" and/or "zero" (missing:
 * data). Zero lengths are skipped; the rest, sorted, must not overlap, and every gap (before,
 * between, after, up to 2^64-1) becomes hole,zero, so the list covers every offset.
 */

import { ConfigError } from "../../api/errors.ts";
import { parseSize } from "../../api/parse.ts";
import { EXTENT } from "../../api/plugin.ts";

/** One extent of the list: [offset, end) of `type`. */
export interface ListedExtent {
  readonly offset: bigint;
  readonly end: bigint;
  readonly type: number;
}

const END = (1n << 64n) - 1n;
const HOLE = EXTENT.HOLE | EXTENT.ZERO;

/** The extents `text` (the file `path`) describes, in order, covering [0, 2^64-1). */
export function parseExtentList(path: string, text: string): ListedExtent[] {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop(); // the file's last line end
  const listed: ListedExtent[] = [];
  for (const line of lines) {
    const fields = line.split(/[ \t]+/).filter((field) => field !== "");
    // Read in nbdkit's order: a bad offset is reported before a missing length.
    if (fields.length === 0) throw unparsable(path, line);
    const offset = parseSize(fields[0]);
    if (fields.length === 1) {
      // nbdkit shows the line as strtok left it: cut at the end of its first field.
      throw unparsable(path, line.slice(0, line.indexOf(fields[0]) + fields[0].length));
    }
    const length = parseSize(fields[1]);
    if (length === 0n) continue;
    listed.push({ offset, end: offset + length, type: typeOf(fields[2]) });
  }
  listed.sort((a, b) => (a.offset < b.offset ? -1 : a.offset > b.offset ? 1 : 0));
  const covered: ListedExtent[] = [];
  let end = 0n;
  for (const extent of listed) {
    if (extent.offset < end) {
      throw new ConfigError("extents in the extent list are overlapping");
    }
    if (extent.offset > end) covered.push({ offset: end, end: extent.offset, type: HOLE });
    covered.push(extent);
    end = extent.end;
  }
  if (end < END) covered.push({ offset: end, end: END, type: HOLE });
  return covered;
}

function unparsable(path: string, shown: string): ConfigError {
  return new ConfigError(`${path}: cannot parse ${shown}`);
}

/** The type field: a number as C's %u reads it, else the words hole and zero, else data. */
function typeOf(field: string | undefined): number {
  if (field === undefined) return EXTENT.DATA;
  const number = /^([+-]?)(\d+)/.exec(field);
  if (number) {
    const value = BigInt(number[2]) % (1n << 32n);
    return Number(number[1] === "-" ? ((1n << 32n) - value) % (1n << 32n) : value);
  }
  return (field.includes("hole") ? EXTENT.HOLE : 0) | (field.includes("zero") ? EXTENT.ZERO : 0);
}

/** The index of the extent of `listed` (as parseExtentList gives it) holding `offset`. */
export function extentAt(listed: readonly ListedExtent[], offset: bigint): number {
  let low = 0;
  let high = listed.length - 1;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (listed[middle].end <= offset) low = middle + 1;
    else high = middle;
  }
  return low;
}
