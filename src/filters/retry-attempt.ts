/**
 * One try of a request (request-op.ts) for the retry filters: the call to the layer below with
 * the checks nbdkit's retry filter makes first, since after a reopen the layer below may be
 * smaller, read-only or missing. Extents are
 * gathered into a list of their own and handed on only when the try succeeds, so a failed try
 * leaves nothing half-reported.
 */

import { ERRNO, NbdError } from "../api/errors.ts";
import { Extents } from "../api/extents.ts";
import { type NextHandle, ZERO_MODE } from "../api/filter.ts";
import { addOffset, compareOffsets } from "../api/offset.ts";
import { CACHE_MODE, type ExtentSink, FLAG, FUA_MODE, type Offset } from "../api/plugin.ts";
import { OP, type RequestHandler } from "./request-op.ts";

/**
 * Makes each request once on `below` (undefined: no layer, a reopen failed), with retry's
 * checks first: throws the failure.
 */
export function tryingOn(below: NextHandle | undefined): RequestHandler {
  return async (op, buf, count, offset, flags, sink) => {
    if (below === undefined) throw new NbdError(ERRNO.ESHUTDOWN, "retry: the plugin is not open");
    const writing = op === OP.WRITE || op === OP.TRIM || op === OP.ZERO;
    if (op !== OP.FLUSH) await checkRange(below, count, offset, writing);
    switch (op) {
      case OP.READ:
        return await below.readAt(buf!, offset);
      case OP.WRITE:
        await checkWritable(await below.canWrite(), below, flags);
        return await below.writeAt(buf!, offset, flags);
      case OP.TRIM:
        await checkWritable(await below.canTrim(), below, flags);
        return await below.trim(count, offset, flags);
      case OP.ZERO:
        await checkWritable((await below.zeroMode()) !== ZERO_MODE.NONE, below, flags);
        return await below.zero(count, offset, flags);
      case OP.FLUSH:
        if (!(await below.canFlush())) throw cannot("flush");
        return await below.flush(0);
      case OP.EXTENTS:
        if (!(await below.canExtents())) throw cannot("extents");
        return await extentsAfresh(below, count, offset, flags, sink!);
      case OP.CACHE:
        if ((await below.canCache()) === CACHE_MODE.NONE) throw cannot("cache");
        return await below.cache(count, offset, flags);
    }
  };
}

/** A change the (reopened) layer cannot take: EROFS; FUA it cannot honour: EIO. */
async function checkWritable(can: boolean, below: NextHandle, flags: number): Promise<void> {
  if (!can) throw new NbdError(ERRNO.EROFS, "retry: the plugin is read-only");
  if (flags & FLAG.FUA && (await below.canFua()) === FUA_MODE.NONE) {
    throw new NbdError(ERRNO.EIO, "retry: FUA requested but the plugin cannot FUA");
  }
}

/**
 * The extents of the layer below gathered into a fresh list, then added to `sink`: each try
 * starts from an empty list, as nbdkit's retry filters make one per try.
 */
export async function extentsAfresh(
  below: NextHandle,
  count: number,
  offset: Offset,
  flags: number,
  sink: ExtentSink,
): Promise<void> {
  const list = new Extents(offset, await below.getSize());
  await below.extents(count, offset, flags, list);
  for (let i = 0; i < list.count; i++) {
    const extent = list.get(i);
    sink.add(extent.offset, extent.length, extent.type);
  }
}

/** A request past the end of the (reopened) layer: ENOSPC for a write, EIO otherwise. */
async function checkRange(below: NextHandle, count: number, offset: Offset, writing: boolean) {
  if (compareOffsets(addOffset(offset, count), await below.getSize()) > 0) {
    const errno = writing ? ERRNO.ENOSPC : ERRNO.EIO;
    throw new NbdError(errno, "retry: request past the end of the plugin");
  }
}

function cannot(what: string): NbdError {
  return new NbdError(ERRNO.EIO, `retry: the plugin cannot ${what}`);
}
