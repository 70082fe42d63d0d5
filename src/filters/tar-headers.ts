/**
 * Finds a member of a tar archive by reading its headers, as GNU tar's `tar -t ENTRY` would
 * list it: ustar (with its name prefix), GNU (long names in 'L' records) and pax ('x' records'
 * path and size) headers, a member matching when its name is ENTRY or lies under the directory
 * ENTRY. Only headers are read; each member's data is skipped.
 *
 *   header (512): name 0-99 | mode | uid | gid | size 124-135 | mtime | checksum 148-155 |
 *                 type 156 | link name | magic 257-262 | … | prefix 345-499 (ustar)
 */

import { toOffset } from "../api/parse.ts";
import type { Offset } from "../api/plugin.ts";

const BLOCK = 512;
const decoder = new TextDecoder();

/** Reads `count` bytes at `offset` of the archive. */
export type ReadArchive = (count: number, offset: number) => Promise<Uint8Array>;

/** Where a member's data lies in the archive. */
export interface TarMember {
  readonly offset: number;
  readonly size: Offset;
}

/** Why a member was not served: the message names the archive's fault or the entry's. */
export class TarError extends Error {}

/** A NUL-terminated text field. */
function text(bytes: Uint8Array): string {
  const end = bytes.indexOf(0);
  return decoder.decode(end === -1 ? bytes : bytes.subarray(0, end));
}

/** A numeric field: octal digits (space or NUL ended), or base-256 when the top bit is set. */
function number(field: Uint8Array): bigint {
  if (field[0] & 0x80) {
    let value = BigInt(field[0] & 0x3f);
    for (const byte of field.subarray(1)) value = (value << 8n) | BigInt(byte);
    return field[0] & 0x40 ? -1n : value; // negative sizes are nonsense
  }
  const digits = text(field).trim();
  if (!/^[0-7]*$/.test(digits)) return -1n;
  return digits === "" ? 0n : BigInt(`0o${digits}`);
}

/** Whether the header's checksum holds (the sum of its bytes, the checksum field as spaces). */
function checksumHolds(header: Uint8Array): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : header[i];
  return number(header.subarray(148, 156)) === BigInt(sum);
}

/** The path and size a pax 'x' record gives the next member ("LEN key=value\n" lines). */
function paxRecords(data: Uint8Array): Map<string, string> {
  const records = new Map<string, string>();
  for (let at = 0; at < data.length;) {
    const space = data.indexOf(0x20, at);
    const length = Number(decoder.decode(data.subarray(at, space)));
    if (space === -1 || !Number.isSafeInteger(length) || length <= space - at) break;
    const line = decoder.decode(data.subarray(space + 1, at + length - 1));
    const equals = line.indexOf("=");
    if (equals > 0) records.set(line.slice(0, equals), line.slice(equals + 1));
    at += length;
  }
  return records;
}

function stripSlashes(name: string): string {
  return name.replace(/\/+$/, "");
}

/** GNU tar's member matching: the name itself, or anything under it as a directory. */
function matches(name: string, entry: string): boolean {
  const member = stripSlashes(name);
  return member === entry || member.startsWith(`${entry}/`);
}

/**
 * The member `entry` of an archive of `size` bytes, looking no further than `limit` bytes
 * into it (0: no limit). Throws TarError when it is missing or the archive is damaged.
 */
export async function findTarMember(
  read: ReadArchive,
  size: number,
  entry: string,
  limit: number,
): Promise<TarMember> {
  const wanted = stripSlashes(entry);
  let longName: string | undefined;
  let pax = new Map<string, string>();
  for (let at = 0; at + BLOCK <= size && (limit === 0 || at < limit);) {
    const header = await read(BLOCK, at);
    if (header.every((byte) => byte === 0)) break; // the end of the archive
    if (!checksumHolds(header)) throw new TarError(`not a tar file: bad header at byte ${at}`);
    const type = String.fromCharCode(header[156]);
    const meta = "LKxg".includes(type);
    // A pax record's size stands for the next member's own (past 8 GiB it must).
    const paxSize = meta ? undefined : pax.get("size");
    const length = paxSize === undefined
      ? number(header.subarray(124, 136))
      : /^\d+$/.test(paxSize)
      ? BigInt(paxSize)
      : -1n;
    if (length < 0n || length > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new TarError(`not a tar file: bad size in the header at byte ${at}`);
    }
    const data = at + BLOCK;
    const stored = "123456".includes(type) ? 0 : Number(length);
    if (type === "L") longName = text(await read(stored, data));
    else if (type === "x") pax = paxRecords(await read(stored, data));
    else if (!meta) {
      const ustar = decoder.decode(header.subarray(257, 262)) === "ustar";
      const prefix = ustar ? text(header.subarray(345, 500)) : "";
      const name = pax.get("path") ?? longName ??
        (prefix ? `${prefix}/${text(header.subarray(0, 100))}` : text(header.subarray(0, 100)));
      if (matches(name, wanted)) return member(type, pax, data, stored, length, size);
      longName = undefined;
      pax = new Map();
    }
    at = data + Math.ceil(stored / BLOCK) * BLOCK;
  }
  throw new TarError(
    `tar-entry "${entry}" not found: check that the file really exists in the tarball`,
  );
}

/** The member found at `data`, unless it is sparse or cut short. */
function member(
  type: string,
  pax: Map<string, string>,
  data: number,
  stored: number,
  length: bigint,
  archiveSize: number,
): TarMember {
  if (type === "S" || [...pax.keys()].some((key) => key.startsWith("GNU.sparse."))) {
    throw new TarError("tar-entry is a sparse file, which this filter cannot serve");
  }
  if (data + stored > archiveSize) {
    throw new TarError("tar-entry is cut short by the end of the file");
  }
  return { offset: data, size: toOffset(length) };
}
