/**
 * The byte layouts of the .xz container (The .xz File Format, 1.x) that the xz filter reads
 * and writes itself: stream headers and footers, the index, variable-length integers and the
 * CRC32 that guards them. Block contents are never decoded here (xz-block.ts does that).
 *
 *   stream:  header (12) | block | block | … | index | footer (12)
 *   header:  FD 37 7A 58 5A 00 | flags (00, check) | CRC32 of flags
 *   footer:  CRC32 of the next 6 bytes | backward size (LE u32: index bytes / 4 - 1) | flags | "YZ"
 *   index:   00 | count (VLI) | count × (unpadded size, uncompressed size) (VLIs) | 0-3 × 00 | CRC32
 *   block:   header (4 × (first byte + 1)) | data | 0-3 × 00 | check: unpadded size excludes padding
 */

export const STREAM_HEADER_SIZE = 12;
const HEADER_MAGIC = [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00];
const FOOTER_MAGIC = [0x59, 0x5a];

/** CRC32 (IEEE, reflected), as xz uses for headers, footers and the index. */
const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function readU32(bytes: Uint8Array, at: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(at, true);
}

function writeU32(bytes: Uint8Array, at: number, value: number): void {
  new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).setUint32(at, value, true);
}

/** The size of the check field that closes each block, by check type (0 none … 10 SHA-256). */
export function checkSize(check: number): number {
  return check === 0 ? 0 : 4 << Math.floor((check - 1) / 3);
}

/** `n` rounded up to a multiple of 4: blocks and the index are padded so. */
export function roundUp4(n: number): number {
  return Math.ceil(n / 4) * 4;
}

/** Whether `bytes` starts with the stream header magic. */
export function hasHeaderMagic(bytes: Uint8Array): boolean {
  return HEADER_MAGIC.every((byte, i) => bytes[i] === byte);
}

/** The check type of a stream header, or a reason it is not one. */
export function decodeStreamHeader(bytes: Uint8Array): number | string {
  if (!hasHeaderMagic(bytes)) return "bad magic";
  return decodeFlags(bytes.subarray(6, 8), readU32(bytes, 8));
}

/** A stream footer's check type and index size in bytes, or a reason it is not one. */
export function decodeStreamFooter(
  bytes: Uint8Array,
): { check: number; indexSize: number } | string {
  if (bytes[10] !== FOOTER_MAGIC[0] || bytes[11] !== FOOTER_MAGIC[1]) return "bad magic";
  if (crc32(bytes.subarray(4, 10)) !== readU32(bytes, 0)) return "bad CRC32";
  const check = decodeFlags(bytes.subarray(8, 10), crc32(bytes.subarray(8, 10)));
  if (typeof check === "string") return check;
  return { check, indexSize: (readU32(bytes, 4) + 1) * 4 };
}

function decodeFlags(flags: Uint8Array, expectedCrc: number): number | string {
  if (crc32(flags) !== expectedCrc) return "bad CRC32";
  if (flags[0] !== 0 || (flags[1] & 0xf0) !== 0) return "unsupported stream flags";
  return flags[1];
}

/** One index record: a block's sizes. */
export interface IndexRecord {
  readonly unpaddedSize: number;
  readonly uncompressedSize: number;
}

/** The records of an index (`bytes` is all of it), or a reason it is not one. */
export function decodeIndex(bytes: Uint8Array): IndexRecord[] | string {
  if (bytes.length < 8 || bytes[0] !== 0) return "no index indicator";
  if (crc32(bytes.subarray(0, bytes.length - 4)) !== readU32(bytes, bytes.length - 4)) {
    return "bad CRC32";
  }
  const end = bytes.length - 4;
  const cursor = { at: 1 };
  const count = readVli(bytes, cursor, end);
  if (count < 0) return "bad record count";
  const records: IndexRecord[] = [];
  for (let i = 0; i < count; i++) {
    const unpaddedSize = readVli(bytes, cursor, end);
    const uncompressedSize = readVli(bytes, cursor, end);
    if (unpaddedSize < 0 || uncompressedSize < 0) return "truncated or oversized record";
    records.push({ unpaddedSize, uncompressedSize });
  }
  if (roundUp4(cursor.at) !== end) return "bad index size";
  for (let at = cursor.at; at < end; at++) if (bytes[at] !== 0) return "bad index padding";
  return records;
}

/**
 * A variable-length integer at `cursor.at` (7 bits a byte, least first, at most 9 bytes),
 * moving the cursor past it; -1 when it is cut short, not minimal, or past 2^53.
 */
function readVli(bytes: Uint8Array, cursor: { at: number }, end: number): number {
  let value = 0;
  for (let i = 0; i < 9 && cursor.at < end; i++) {
    const byte = bytes[cursor.at++];
    value += (byte & 0x7f) * 2 ** (7 * i);
    if ((byte & 0x80) === 0) {
      return (byte === 0 && i > 0) || !Number.isSafeInteger(value) ? -1 : value;
    }
  }
  return -1;
}

function vli(value: number): number[] {
  const out: number[] = [];
  for (; value >= 0x80; value = Math.floor(value / 0x80)) out.push((value % 0x80) | 0x80);
  out.push(value);
  return out;
}

/**
 * The bytes of a whole stream around one block (`block`: header, data, padding and check):
 * what any stream decoder can take, so that a block can be decoded alone.
 */
export function singleBlockStream(check: number, block: Uint8Array, record: IndexRecord) {
  const body = [0, ...vli(1), ...vli(record.unpaddedSize), ...vli(record.uncompressedSize)];
  const indexSize = roundUp4(body.length) + 4;
  const out = new Uint8Array(STREAM_HEADER_SIZE + block.length + indexSize + STREAM_HEADER_SIZE);
  out.set(HEADER_MAGIC);
  out[7] = check;
  writeU32(out, 8, crc32(out.subarray(6, 8)));
  out.set(block, STREAM_HEADER_SIZE);
  const index = out.subarray(STREAM_HEADER_SIZE + block.length, out.length - STREAM_HEADER_SIZE);
  index.set(body);
  writeU32(index, indexSize - 4, crc32(index.subarray(0, indexSize - 4)));
  const footer = out.subarray(out.length - STREAM_HEADER_SIZE);
  writeU32(footer, 4, indexSize / 4 - 1);
  footer[9] = check;
  footer.set(FOOTER_MAGIC, 10);
  writeU32(footer, 0, crc32(footer.subarray(4, 10)));
  return out;
}
