/**
 * One connection through one filter: opens the layer below as a NextHandle (a Backend over its
 * handle, so every method is there with nbdkit's defaults and capabilities are asked once),
 * lets the filter's open() choose what it overrides, and joins the two into the one Handle the
 * layer above sees. Closing runs the filter's close, then the layer below's, as nbdkit does.
 */

import { Backend } from "./backend.ts";
import { ERRNO, NbdError } from "../api/errors.ts";
import type { Filter, NextHandle } from "../api/filter.ts";
import { FLAG, type Handle, type Plugin } from "../api/plugin.ts";

/** Every Handle method but close, which is joined apart. */
const HANDLE_METHODS = [
  "getSize",
  "readAt",
  "writeAt",
  "zero",
  "trim",
  "flush",
  "cache",
  "extents",
  "canWrite",
  "canFlush",
  "canFua",
  "canTrim",
  "canZero",
  "canFastZero",
  "canExtents",
  "canMultiConn",
  "canCache",
  "isRotational",
  "exportDescription",
  "blockSize",
] as const satisfies readonly (keyof Handle)[];

/** Opens `below` through `filter`, which has an open callback, for one connection. */
export async function openThrough(
  filter: Filter,
  below: Plugin,
  readonly: boolean,
  exportName: string,
): Promise<Handle> {
  let next: NextHandle | undefined;
  const openNext = async (nextReadonly: boolean, nextName: string) => {
    if (next) throw new Error(`filter "${filter.name}" opened the next layer twice`);
    next = nextHandle(await Backend.open(below, nextReadonly, nextName));
    return next;
  };
  let own: Partial<Handle>;
  try {
    own = await filter.open!(openNext, readonly, exportName);
    if (typeof own !== "object" || own === null) {
      const what = `filter "${filter.name}" open returned ${String(own)}`;
      throw new NbdError(ERRNO.EINVAL, `${what}, not the methods it overrides`);
    }
  } catch (error) {
    await next?.close();
    throw error;
  }
  if (next === undefined && (own.getSize === undefined || own.readAt === undefined)) {
    await own.close?.();
    throw new NbdError(
      ERRNO.EINVAL,
      `filter "${filter.name}" opened no next layer and gave no getSize and readAt of its own`,
    );
  }
  return join(own, next);
}

/** The filter's methods where it gave them, the next layer's elsewhere. */
function join(own: Partial<Handle>, next: NextHandle | undefined): Handle {
  const joined: Record<string, unknown> = {};
  for (const method of HANDLE_METHODS) {
    const mine = own[method] as ((...args: unknown[]) => unknown) | undefined;
    joined[method] = mine ? mine.bind(own) : next?.[method];
  }
  joined.close = async () => {
    try {
      await own.close?.();
    } finally {
      await next?.close();
    }
  };
  return joined as unknown as Handle;
}

/** The layer below as a NextHandle: the Backend's answers, in the Handle's shape. */
function nextHandle(backend: Backend): NextHandle {
  const { caps } = backend;
  return {
    getSize: () => caps.size,
    readAt: (buf, offset) => backend.readAt(buf, offset),
    writeAt: (buf, offset, flags) => backend.writeAt(buf, offset, (flags & FLAG.FUA) !== 0),
    zero: (count, offset, flags) =>
      backend.zero(
        count,
        offset,
        (flags & FLAG.MAY_TRIM) !== 0,
        (flags & FLAG.FUA) !== 0,
        (flags & FLAG.FAST_ZERO) !== 0,
      ),
    trim: (count, offset, flags) => backend.trim(count, offset, (flags & FLAG.FUA) !== 0),
    flush: () => backend.flush(),
    cache: (count, offset) => backend.cache(count, offset),
    extents: (count, offset, flags, sink) =>
      backend.extents(count, offset, (flags & FLAG.REQ_ONE) !== 0, sink),
    canWrite: () => caps.writable,
    canFlush: () => caps.flush,
    canFua: () => caps.fua,
    canTrim: () => caps.trim,
    canZero: () => caps.zeroNative,
    canFastZero: () => caps.fastZero,
    canExtents: () => caps.extents,
    canMultiConn: () => caps.multiConn,
    canCache: () => caps.cache,
    isRotational: () => caps.rotational,
    exportDescription: () => backend.description(),
    blockSize: () => caps.blockSize,
    close: () => backend.close(),
  };
}
