/**
 * How a request on kept blocks (kept-blocks.ts) goes on once the layer below answers later: each
 * is a plain async function given what it needs, so that the synchronous methods create no
 * closure per call, and each looks at the blocks' states afresh when it resumes.
 */

import type { NextHandle } from "../../api/filter.ts";
import { addOffset } from "../../api/offset.ts";
import type { MaybePromise, Offset } from "../../api/plugin.ts";
import type { NextStates } from "./block-states.ts";

/** What the continuations ask of the kept blocks (KeptBlocks, which alone calls them). */
export interface Resumable {
  read(below: NextHandle, buf: Uint8Array, offset: Offset, keep: boolean): MaybePromise<void>;
  change(
    below: NextHandle,
    buf: Uint8Array | undefined,
    count: number,
    offset: Offset,
    next: NextStates,
  ): MaybePromise<void>;
  keepRun(data: Uint8Array, first: number, count: number): void;
  giveScratch(buffer: Uint8Array): void;
}

/** A read's run below answered later: the rest of the read goes on from `done`. */
export async function readLater(
  kept: Resumable,
  below: NextHandle,
  buf: Uint8Array,
  offset: Offset,
  done: number,
  keep: boolean,
  pending: PromiseLike<void>,
): Promise<void> {
  await pending;
  if (done < buf.length) await kept.read(below, buf.subarray(done), addOffset(offset, done), keep);
}

/** Blocks read from below into `view` are kept once they come; `scratch` goes back then. */
export async function keepLater(
  kept: Resumable,
  pending: PromiseLike<void>,
  view: Uint8Array,
  first: number,
  count: number,
  scratch: Uint8Array | undefined,
): Promise<void> {
  try {
    await pending;
    kept.keepRun(view, first, count);
  } finally {
    if (scratch !== undefined) kept.giveScratch(scratch);
  }
}

/** Whole blocks read from below into `data` are kept, and the part asked for copied out. */
export async function copyLater(
  kept: Resumable,
  pending: PromiseLike<void>,
  data: Uint8Array,
  first: number,
  count: number,
  view: Uint8Array,
  from: number,
): Promise<void> {
  await pending;
  kept.keepRun(data, first, count);
  view.set(data.subarray(from, from + view.length));
}

/** A block of a change was filled later: the change is made now, looked at afresh. */
export async function changeLater(
  kept: Resumable,
  below: NextHandle,
  pending: PromiseLike<void>,
  buf: Uint8Array | undefined,
  count: number,
  offset: Offset,
  next: NextStates,
): Promise<void> {
  await pending;
  // The other end may need filling now, or this one again if it was let go meanwhile.
  await kept.change(below, buf, count, offset, next);
}
