/**
 * Reads where every block of an .xz file lies, as nbdkit's xz filter does with liblzma: from
 * the end backwards, stream by stream (skipping stream padding), each footer giving its index
 * and each index the blocks before it. The result maps uncompressed offsets to blocks.
 */

import { ERRNO, NbdError } from "../api/errors.ts";
import type { NextHandle } from "../api/filter.ts";
import {
  checkSize,
  decodeIndex,
  decodeStreamFooter,
  decodeStreamHeader,
  hasHeaderMagic,
  type IndexRecord,
  roundUp4,
  STREAM_HEADER_SIZE,
} from "./xz-format.ts";

/** One block: where it is in the file, and which bytes of the disk it holds. */
export interface XzBlock extends IndexRecord {
  /** The check type of its stream. */
  readonly check: number;
  readonly compressedOffset: number;
  readonly uncompressedOffset: number;
  /** Its number among all the blocks of the file, from 1 (liblzma's number_in_file). */
  readonly number: number;
}

/** The blocks of a file holding data, in order, and the size of the whole expansion. */
export interface XzIndex {
  readonly blocks: readonly XzBlock[];
  readonly size: number;
  readonly largestBlock: number;
}

/** The largest index read at once (64 MiB: some 10 million blocks). */
const MAX_INDEX = 64 * 1024 * 1024;

function fail(message: string): never {
  throw new NbdError(ERRNO.EIO, `xz: ${message}`);
}

async function read(below: NextHandle, count: number, offset: number): Promise<Uint8Array> {
  const bytes = new Uint8Array(count);
  await below.readAt(bytes, offset);
  return bytes;
}

export async function readXzIndex(below: NextHandle): Promise<XzIndex> {
  const fileSize = Number(await below.getSize());
  if (fileSize < 6) fail("file too short");
  if (!hasHeaderMagic(await read(below, 6, 0))) fail("not an xz file");
  if (fileSize % 4 !== 0) fail("not an xz file: size is not a multiple of 4 bytes");

  const streams: { offset: number; check: number; records: IndexRecord[] }[] = [];
  for (let pos = fileSize; pos > 0;) {
    if (pos < STREAM_HEADER_SIZE) fail(`corrupted file at ${pos}`);
    const footerBytes = await read(below, STREAM_HEADER_SIZE, pos - STREAM_HEADER_SIZE);
    if (footerBytes.subarray(8).every((byte) => byte === 0)) {
      pos -= 4; // stream padding
      continue;
    }
    pos -= STREAM_HEADER_SIZE;
    const footer = decodeStreamFooter(footerBytes);
    if (typeof footer === "string") fail(`invalid stream footer (${footer})`);
    if (pos < footer.indexSize + STREAM_HEADER_SIZE || footer.indexSize > MAX_INDEX) {
      fail("invalid stream footer");
    }
    pos -= footer.indexSize;
    const records = decodeIndex(await read(below, footer.indexSize, pos));
    if (typeof records === "string") fail(`could not parse index (${records})`);
    const blocksSize = records.reduce((sum, record) => sum + roundUp4(record.unpaddedSize), 0);
    pos -= blocksSize + STREAM_HEADER_SIZE;
    if (pos < 0) fail(`corrupted file at ${pos + blocksSize + STREAM_HEADER_SIZE}`);
    const check = decodeStreamHeader(await read(below, STREAM_HEADER_SIZE, pos));
    if (typeof check === "string") fail(`invalid stream header (${check})`);
    if (check !== footer.check) fail("header and footer of stream are not equal");
    streams.unshift({ offset: pos, check, records });
  }
  return layOut(streams);
}

/** Numbers each block's offsets, file order; blocks that hold no data are left out. */
function layOut(streams: { offset: number; check: number; records: IndexRecord[] }[]): XzIndex {
  const blocks: XzBlock[] = [];
  let size = 0;
  let largestBlock = 0;
  let number = 0;
  for (const { offset, check, records } of streams) {
    let compressedOffset = offset + STREAM_HEADER_SIZE;
    for (const record of records) {
      number++;
      if (record.unpaddedSize < checkSize(check) + 5) {
        fail("could not parse index (bad block size)");
      }
      if (record.uncompressedSize > 0) {
        blocks.push({ ...record, check, compressedOffset, uncompressedOffset: size, number });
      }
      compressedOffset += roundUp4(record.unpaddedSize);
      size += record.uncompressedSize;
      largestBlock = Math.max(largestBlock, record.uncompressedSize);
    }
  }
  if (!Number.isSafeInteger(size)) fail("uncompressed size is past 2^53 bytes");
  return { blocks, size, largestBlock };
}

/** The block holding byte `offset` of the expansion (which must be inside it). */
export function blockAt(index: XzIndex, offset: number): XzBlock {
  const { blocks } = index;
  let low = 0;
  let high = blocks.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >>> 1;
    if (blocks[middle].uncompressedOffset <= offset) low = middle;
    else high = middle - 1;
  }
  return blocks[low];
}
