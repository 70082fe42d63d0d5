/**
 * The request methods of a filter that serves a window of the layer below (offset, partition):
 * each request goes down moved by the window's start, its buffer untouched, and extents come
 * back moved, clipped at the window's end. The filter sets the window once it knows it.
 */

import type { FilterHandle, NextHandle } from "../api/filter.ts";
import { extentsMoved, readMoved } from "../api/filter-offsets.ts";
import { addOffset } from "../api/offset.ts";
import type { Offset } from "../api/plugin.ts";

/** Where the window lies in the layer below: bytes start to end (excluded). */
export interface Window {
  start: Offset;
  end: Offset;
}

export function windowMethods(
  below: NextHandle,
  window: Window,
): Pick<FilterHandle, "readAt" | "writeAt" | "trim" | "zero" | "cache" | "extents"> {
  const at = (position: Offset) => addOffset(position, window.start);
  return {
    readAt: (buf, position) => readMoved(below, buf, position, at(position)),
    writeAt: (buf, position, flags) => below.writeAt(buf, at(position), flags),
    trim: (count, position, flags) => below.trim(count, at(position), flags),
    zero: (count, position, flags) => below.zero(count, at(position), flags),
    cache: (count, position, flags) => below.cache(count, at(position), flags),
    extents: (count, position, flags, sink) =>
      extentsMoved(below, count, position, at(position), window.end, flags, sink),
  };
}
