/**
 * The file plugin's extents, as nbdkit's finds them: from `offset`, alternately the next byte
 * of data (SEEK_DATA) and the next hole (SEEK_HOLE), reporting each hole as a hole that reads
 * as zeroes and each stretch between as data, until the requested end or the first extent.
 */

import { EXTENT, type ExtentSink } from "../../api/plugin.ts";
import type { DiskFile } from "../../io.ts";

/** A file that can tell where its holes are. */
export type SeekableFile = Required<Pick<DiskFile, "nextData" | "nextHole">>;

/**
 * Reports [offset, offset+count) into `sink`; the last extent may run past the end, as far as
 * the file says. With `reqOne`, stops after the first. Throws what the file throws.
 */
export function reportExtents(
  file: SeekableFile,
  count: number,
  offset: number,
  reqOne: boolean,
  sink: ExtentSink,
): void {
  const end = offset + count;
  let at = offset;
  while (at < end) {
    // No data up to the end of the file: the rest of the request is its final hole.
    const data = file.nextData(at) ?? end;
    if (data > at) {
      sink.add(at, data - at, EXTENT.HOLE | EXTENT.ZERO);
      if (reqOne) return;
      at = data;
      if (at >= end) return;
    }
    const hole = file.nextHole(at);
    if (hole > at) {
      sink.add(at, hole - at, EXTENT.DATA);
      if (reqOne) return;
    }
    at = hole;
  }
}
