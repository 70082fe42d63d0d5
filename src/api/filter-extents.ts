/**
 * Asking the layer below for extents on a filter's behalf (nbdkit's nbdkit_extents_full and
 * nbdkit_extents_aligned): as many requests as it takes to cover a range, or extents rounded
 * to an alignment the filter needs. Block status is not a hot path: lists are made per call.
 */

import { ERRNO, NbdError } from "./errors.ts";
import { Extents } from "./extents.ts";
import type { NextHandle } from "./filter.ts";
import { addOffset } from "./offset.ts";
import { toOffset } from "./parse.ts";
import { type ExtentSink, FLAG, type Offset } from "./plugin.ts";

/**
 * Extents covering all of [offset, offset+count), asking `next` again from where each answer
 * stopped; REQ_ONE is dropped from `flags` so that each answer says as much as it can.
 */
export async function extentsFull(
  next: NextHandle,
  count: number,
  offset: Offset,
  flags: number,
): Promise<Extents> {
  const all = new Extents(offset, addOffset(offset, count));
  let at = BigInt(offset);
  let left = BigInt(count);
  while (left > 0n) {
    const part = new Extents(at, at + left);
    await next.extents(Number(left), toOffset(at), flags & ~FLAG.REQ_ONE, part);
    if (part.count === 0) {
      throw new NbdError(ERRNO.EIO, `extents: the layer below reported nothing at ${at}`);
    }
    for (let i = 0; i < part.count; i++) {
      const size = part.ends[i] - part.starts[i];
      all.add(part.starts[i], size, part.types[i]);
      at += size;
      left -= size;
    }
  }
  return all;
}

/** One extent being worked on, exactly. */
interface Run {
  offset: bigint;
  length: bigint;
  type: number;
}

/**
 * Extents of [offset, offset+count) from `next`, each a multiple of `align` bytes (a power of
 * two), added to `sink`. Where the layer below changes type within the first `align` bytes,
 * those bytes become one extent whose HOLE and ZERO bits are what all of its pieces share (0,
 * data, is always safe); after the first unaligned extent the answer stops, rounded down. The
 * request itself must be aligned (EINVAL otherwise).
 */
export async function extentsAligned(
  next: NextHandle,
  count: number,
  offset: Offset,
  flags: number,
  align: number,
  sink: ExtentSink,
): Promise<void> {
  const size = BigInt(align);
  const start = BigInt(offset);
  if (start % size !== 0n || count % align !== 0) {
    throw new NbdError(ERRNO.EINVAL, `extents: request not aligned to ${align} bytes`);
  }
  let runs = await runsOf(next, BigInt(count), start, BigInt(await next.getSize()), flags);
  for (let i = 0; i < runs.length; i++) {
    const run = runs[i];
    if (run.length % size === 0n) continue;
    if (run.offset + run.length > start + size) {
      // Unaligned past the first block: keep what is aligned and stop there.
      run.length -= run.length % size;
      runs.length = run.length > 0n ? i + 1 : i;
      break;
    }
    // Only the first extent can be shorter than one block: merge until it is one block.
    while (run.length < size) {
      if (runs.length === 1) {
        const from = run.offset + run.length;
        const rest = start + size - from;
        const more = await runsOf(next, rest, from, start + size, flags & ~FLAG.REQ_ONE);
        runs = [run, ...more];
      }
      const following = runs[1];
      run.length += following.length;
      run.type &= following.type;
      runs.splice(1, 1);
    }
    run.length = size;
    runs.length = 1;
    break;
  }
  for (const run of runs) sink.add(toOffset(run.offset), toOffset(run.length), run.type);
}

/** What `next` reports for [offset, offset+count), clipped to [offset, end). */
async function runsOf(
  next: NextHandle,
  count: bigint,
  offset: bigint,
  end: bigint,
  flags: number,
): Promise<Run[]> {
  const list = new Extents(offset, end);
  await next.extents(Number(count), toOffset(offset), flags, list);
  if (list.count === 0) {
    throw new NbdError(ERRNO.EIO, `extents: the layer below reported nothing at ${offset}`);
  }
  return list.types.map((type, i) => ({
    offset: list.starts[i],
    length: list.ends[i] - list.starts[i],
    type,
  }));
}
