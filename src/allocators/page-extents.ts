/**
 * The sparse allocator's extents at nbdkit's granularity (zero-pages.ts says why): a 32 KiB
 * page holding one of our 4 KiB pages is DATA, one nbdkit would hold with only zeroes in it is
 * ZERO, any other is HOLE|ZERO. As in nbdkit's sparse_array_extents, the first page is judged
 * from `offset` on: DATA only if a non-zero byte lies between `offset` and the page's end.
 *
 * Runs are found from the page directory (presenceEnd), never by visiting each page, so a map
 * of a huge sparse disk costs one step per run. Page numbers here are our 4 KiB pages; a
 * 32 KiB page is PER of them, from a multiple of PER.
 */

import { EXTENT, type ExtentSink, type Offset } from "../api/plugin.ts";
import { PAGE_SIZE } from "../wasm/hotpath.ts";
import { byteOf, distance, inPageOf, pageOf } from "./page-offsets.ts";
import { addOffset, compareOffsets } from "../api/offset.ts";
import type { Shards } from "./shards.ts";
import { NBDKIT_PAGE_SIZE, type ZeroPages } from "./zero-pages.ts";

/** Our pages per nbdkit page. */
const PER = NBDKIT_PAGE_SIZE / PAGE_SIZE;
const HOLE = EXTENT.HOLE | EXTENT.ZERO;

/** What the walk reads: the pages, the zero pages, and where the disk ends. */
export interface PagedDisk {
  readonly shards: Shards;
  readonly zeroPages: ZeroPages;
  readonly size: Offset;
  /** The disk's size in our pages, rounded up to a whole nbdkit page. */
  readonly endPage: number;
}

/** The first multiple of PER at or after `page`. */
export function upToBigPage(page: number): number {
  return Math.ceil(page / PER) * PER;
}

export function reportExtents(disk: PagedDisk, count: Offset, offset: Offset, sink: ExtentSink) {
  if (compareOffsets(count, 0) <= 0) return;
  const { shards } = disk;
  const first = pageOf(offset);
  // Page numbers stay below 2^51, exact as numbers, whatever the count.
  const end = addOffset(offset, count);
  const endPage = pageOf(end) + (inPageOf(end) > 0 ? 1 : 0);
  const limit = Math.min(upToBigPage(endPage), disk.endPage);
  let page = first - (first % PER);
  let start = offset; // of the run of one type being gathered
  let runType = -1;
  const emit = (end: number, type: number) => {
    if (type !== runType && runType >= 0) {
      const stop = byteOf(page);
      sink.add(start, distance(start, stop), runType);
      start = stop;
    }
    runType = type;
    page = end;
  };
  if (page < limit && (first % PER !== 0 || inPageOf(offset) !== 0)) {
    emit(page + PER, headType(disk, page, offset));
  }
  while (page < limit) {
    const present = shards.firstPresent(page, limit);
    if (present >= page + PER) {
      emitHoles(disk, page, present - (present % PER), emit);
      continue;
    }
    // Data: on over each following nbdkit page that holds a page of ours.
    let end = present;
    for (;;) {
      end = shards.dataEnd(end, limit);
      const next = upToBigPage(end);
      const reach = Math.min(next + PER, limit);
      const more = next >= limit ? reach : shards.firstPresent(end, reach);
      if (more >= reach) {
        end = Math.min(next, limit);
        break;
      }
      end = more;
    }
    emit(end, EXTENT.DATA);
  }
  if (runType < 0) return; // nothing of the disk was asked for
  const stop = page >= disk.endPage ? disk.size : byteOf(page);
  sink.add(start, distance(start, stop), runType);
}

/** The type of the nbdkit page at `page`, judged from `offset` (inside it) to its end. */
function headType(disk: PagedDisk, page: number, offset: Offset): number {
  const { shards } = disk;
  const pageEnd = page + PER;
  if (shards.firstPresent(page, pageEnd) >= pageEnd) {
    return isZeroPage(disk.zeroPages, page / PER) ? EXTENT.ZERO : HOLE;
  }
  const at = pageOf(offset);
  if (shards.firstPresent(at + 1, pageEnd) < pageEnd) return EXTENT.DATA;
  const shard = shards.find(at);
  if (!shard) return EXTENT.ZERO;
  const from = inPageOf(offset);
  return shard.exports.isZero(shards.found + from, PAGE_SIZE - from) ? EXTENT.ZERO : EXTENT.DATA;
}

/** Reports [page, end), where no page of ours lies, as holes and zero pages. */
function emitHoles(
  disk: PagedDisk,
  page: number,
  end: number,
  emit: (end: number, type: number) => void,
): void {
  const { zeroPages } = disk;
  if (zeroPages.empty) return emit(end, HOLE);
  const { starts, ends } = zeroPages;
  for (let i = zeroPages.indexFrom(page / PER); page < end; i++) {
    const zeroStart = i < starts.length ? starts[i] * PER : end;
    if (zeroStart >= end) return emit(end, HOLE);
    if (zeroStart > page) emit(zeroStart, HOLE);
    const zeroEnd = Math.min(ends[i] * PER, end);
    emit(zeroEnd, EXTENT.ZERO);
    page = zeroEnd;
  }
}

function isZeroPage(zeroPages: ZeroPages, bigPage: number): boolean {
  const i = zeroPages.indexFrom(bigPage);
  return i < zeroPages.starts.length && zeroPages.starts[i] <= bigPage;
}
