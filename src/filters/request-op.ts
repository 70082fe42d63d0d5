/**
 * A request as plain values, for filters that handle every kind of request alike (retry,
 * retry-request, pause): its kind and what that kind needs, passed as separate arguments, so
 * one function wraps them all without a closure or an array per request. `handlersOf` makes the
 * handle methods that feed such a function; `callingBelow` makes the requests on the layer below.
 */

import type { FilterHandle, NextHandle } from "../api/filter.ts";
import type { ExtentSink, Offset } from "../api/plugin.ts";

/** The kinds of request. */
export const OP = { READ: 0, WRITE: 1, TRIM: 2, FLUSH: 3, ZERO: 4, EXTENTS: 5, CACHE: 6 } as const;
export type Op = (typeof OP)[keyof typeof OP];

const NAMES = ["pread", "pwrite", "trim", "flush", "zero", "extents", "cache"] as const;

/** nbdkit's name of a request kind, for debug lines. */
export function opName(op: Op): string {
  return NAMES[op];
}

/**
 * Takes one request: its kind, then what each kind needs (`buf` for reads and writes, `count`
 * for the others, `sink` for extents; the rest undefined or 0).
 */
export type RequestFunction<Result> = (
  op: Op,
  buf: Uint8Array | undefined,
  count: number,
  offset: Offset,
  flags: number,
  sink: ExtentSink | undefined,
) => Result;

/** Handles one request for a filter's handle (see handlersOf). */
export type RequestHandler = RequestFunction<Promise<void>>;

/** The data methods of a FilterHandle, each handing its request to `handle`. */
export function handlersOf(
  handle: RequestHandler,
): Required<
  Pick<FilterHandle, "readAt" | "writeAt" | "trim" | "zero" | "flush" | "extents" | "cache">
> {
  return {
    readAt: (buf, offset) => handle(OP.READ, buf, 0, offset, 0, undefined),
    writeAt: (buf, offset, flags) => handle(OP.WRITE, buf, 0, offset, flags, undefined),
    trim: (count, offset, flags) => handle(OP.TRIM, undefined, count, offset, flags, undefined),
    zero: (count, offset, flags) => handle(OP.ZERO, undefined, count, offset, flags, undefined),
    flush: () => handle(OP.FLUSH, undefined, 0, 0, 0, undefined),
    extents: (count, offset, flags, sink) =>
      handle(OP.EXTENTS, undefined, count, offset, flags, sink),
    cache: (count, offset, flags) => handle(OP.CACHE, undefined, count, offset, flags, undefined),
  };
}

/** Makes each request on `below` as it came. */
export function callingBelow(below: NextHandle): RequestFunction<unknown> {
  return (op, buf, count, offset, flags, sink) => {
    switch (op) {
      case OP.READ:
        return below.readAt(buf!, offset);
      case OP.WRITE:
        return below.writeAt(buf!, offset, flags);
      case OP.TRIM:
        return below.trim(count, offset, flags);
      case OP.ZERO:
        return below.zero(count, offset, flags);
      case OP.FLUSH:
        return below.flush(0);
      case OP.EXTENTS:
        return below.extents(count, offset, flags, sink!);
      case OP.CACHE:
        return below.cache(count, offset, flags);
    }
  };
}
