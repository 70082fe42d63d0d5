/**
 * The storage contract behind the memory plugin (and later the data plugin): nbdkit's
 * common/allocators/allocator.h as an interface. Every call is synchronous, so a plugin built
 * on it answers without a microtask. Offsets are exact: `number` below 2^53, `bigint` past it.
 */

import type { ExtentSink, Offset, ReadViews } from "../api/plugin.ts";

/** Room made in the store for a write whose bytes will be received straight into `view`. */
export interface Placement {
  readonly view: Uint8Array;
}

export interface Allocator {
  /** "sparse" or "malloc", as given to allocator=. */
  readonly kind: string;
  /** Copies the bytes at `offset` into `buf`; never-written bytes read as zero. */
  read(buf: Uint8Array, offset: Offset): void;
  /** Stores `buf` at `offset`. Throws NbdError("ENOSPC") if it cannot be stored; no crash. */
  write(buf: Uint8Array, offset: Offset): void;
  /**
   * Makes `count` bytes at `offset` read as zero, freeing whole pages that become empty. The
   * count may be the whole disk (a client with extended headers zeroes it in one request).
   */
  zero(count: Offset, offset: Offset): void;
  /**
   * Reports [offset, offset+count) into `sink` as runs of DATA (0), ZERO (2) or HOLE|ZERO (3),
   * in order, merged where adjacent runs have the same type, at the granularity nbdkit's
   * allocator of the same name reports. May report a little past offset+count.
   */
  extents(count: Offset, offset: Offset, sink: ExtentSink): void;
  /** Bytes of memory currently held for data (for tests and --dump-plugin). */
  allocatedBytes(): number;
  /**
   * Optional: makes room for `count` bytes at `offset` and answers a view of it, so that a write
   * payload is received in place instead of copied. Bytes put in the view show at `offset` as
   * they arrive; the room stays put (nothing freed or moved) until release(). Undefined when the
   * room cannot be one contiguous view: the caller then uses write().
   */
  place?(count: number, offset: Offset): Placement | undefined;
  /**
   * Lets the room go once the payload is in, or (`written` false) once it is known never to
   * come: what the view holds stays, and pages left all zero are freed as write() frees them.
   */
  release?(placement: Placement, written?: boolean): void;
  /**
   * Optional: the bytes at [offset, offset+count) as views of the store's own memory (holes as
   * views of one shared zero buffer), for a reply sent without copying; the pages stay put
   * until the answer's release(). Undefined when they cannot be lent: the caller uses read().
   */
  lend?(count: number, offset: Offset): ReadViews | undefined;
}
