/**
 * The extents a script's extents method prints, one per line, "OFFSET LENGTH [TYPE]", read as
 * nbdkit's sh plugin reads them (plugins/sh/methods.c, parse_extents): offset and length are
 * sizes ("1M"), the type a number, or words containing "hole" and "zero", or nothing for data.
 * Fields are split at spaces and tabs; an empty line is an error, as there.
 */

import { ERRNO, messageOf, NbdError } from "../../api/errors.ts";
import { parseSize, toOffset } from "../../api/parse.ts";
import { EXTENT, type Offset } from "../../api/plugin.ts";

export interface ScriptExtent {
  readonly offset: Offset;
  readonly length: Offset;
  readonly type: number;
}

/** Each line of `text` as an extent; throws an EIO NbdError naming the line it cannot read. */
export function parseExtents(text: string): ScriptExtent[] {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop(); // the newline ending the last line starts no other
  return lines.map((line) => {
    const fields = line.split(/[ \t]+/).filter((field) => field !== "");
    if (fields.length < 2) throw new NbdError(ERRNO.EIO, `extents: cannot parse ${line}`);
    return { offset: size(fields[0]), length: size(fields[1]), type: typeOf(fields[2]) };
  });
}

function size(field: string): Offset {
  try {
    return toOffset(parseSize(field));
  } catch (error) {
    throw new NbdError(ERRNO.EIO, messageOf(error));
  }
}

/** sscanf's "%u" when it reads a number (wrapping as C does), else the words found. */
function typeOf(field: string | undefined): number {
  if (field === undefined) return EXTENT.DATA;
  const number = /^[+-]?\d+/.exec(field);
  if (number) return Number(BigInt.asUintN(32, BigInt(number[0])));
  return (field.includes("hole") ? EXTENT.HOLE : 0) | (field.includes("zero") ? EXTENT.ZERO : 0);
}
