/**
 * For filters that serve the layer below at other offsets (offset, partition): a read whose
 * failure names its first bad byte (NbdError.offset) names it in the asker's offsets, and
 * extents read below come back moved. A read that succeeds costs nothing extra: no promise is
 * made for a read answered synchronously.
 */

import { NbdError } from "./errors.ts";
import { Extents } from "./extents.ts";
import type { NextHandle } from "./filter.ts";
import { isThenable } from "./maybe-promise.ts";
import { addOffset, subtractOffset } from "./offset.ts";
import { toOffset } from "./parse.ts";
import type { ExtentSink, MaybePromise, Offset } from "./plugin.ts";

/**
 * `error` as the layer above should see it, when its request at `asked` went below at `at`:
 * an NbdError naming byte `at + k` names `asked + k` instead; anything else is unchanged.
 */
export function moveErrorOffset(error: unknown, at: Offset, asked: Offset): unknown {
  if (!(error instanceof NbdError) || error.offset === undefined) return error;
  const offset = addOffset(asked, subtractOffset(error.offset, at));
  const moved = new NbdError(error.errno, error.message, offset);
  moved.stack = error.stack;
  return moved;
}

/** Fills `buf` from `next` at `at`, for a read the layer above made at `asked`. */
export function readMoved(
  next: NextHandle,
  buf: Uint8Array,
  asked: Offset,
  at: Offset,
): MaybePromise<void> {
  let done: MaybePromise<void>;
  try {
    done = next.readAt(buf, at);
  } catch (error) {
    throw moveErrorOffset(error, at, asked);
  }
  return isThenable(done) ? movedLater(done, at, asked) : done;
}

// Apart from readMoved: a closure there would make every call allocate its variables.
function movedLater(done: PromiseLike<void>, at: Offset, asked: Offset): Promise<void> {
  return Promise.resolve(done).then(undefined, (error: unknown) => {
    throw moveErrorOffset(error, at, asked);
  });
}

/**
 * Asks `next` for the extents of `count` bytes at `at` (clipped to [at, end) below, as
 * nbdkit_extents_new would) and adds them to `sink` moved to the asker's offsets, where `at`
 * is `asked`.
 */
export async function extentsMoved(
  next: NextHandle,
  count: number,
  asked: Offset,
  at: Offset,
  end: Offset,
  flags: number,
  sink: ExtentSink,
): Promise<void> {
  const below = new Extents(at, end);
  await next.extents(count, at, flags, below);
  const shift = BigInt(at) - BigInt(asked);
  for (let i = 0; i < below.count; i++) {
    const start = below.starts[i];
    sink.add(toOffset(start - shift), toOffset(below.ends[i] - start), below.types[i]);
  }
}
