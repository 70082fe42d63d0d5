/**
 * allocator=malloc: the whole disk as one flat Uint8Array, as nbdkit's common/allocators/malloc.c
 * keeps it in one heap block. No sparseness: a size the runtime cannot allocate is refused when
 * the plugin is configured, and extents report everything as data, as nbdkit's does.
 */

import { ConfigError, ERRNO, messageOf, NbdError } from "../api/errors.ts";
import { EXTENT, type ExtentSink, type Offset } from "../api/plugin.ts";
import type { Allocator } from "./allocator.ts";

export function createMallocAllocator(size: bigint): Allocator {
  const store = allocate(size);
  const length = store.length;

  /** The offset as a number, after checking that `count` bytes there lie inside the disk. */
  function checked(
    offset: Offset,
    count: number,
    errno: typeof ERRNO.ENOSPC | typeof ERRNO.EIO,
  ): number {
    const at = Number(offset);
    if (at + count > length) {
      throw new NbdError(
        errno,
        `Cannot access ${count} bytes at ${offset}: past the end of the disk`,
      );
    }
    return at;
  }

  return {
    kind: "malloc",
    read(buf, offset) {
      const at = checked(offset, buf.length, ERRNO.EIO);
      buf.set(store.subarray(at, at + buf.length));
    },
    write(buf, offset) {
      store.set(buf, checked(offset, buf.length, ERRNO.ENOSPC));
    },
    // The store never moves or shrinks: a payload can always be received in place.
    place(count, offset) {
      const at = Number(offset);
      return at + count <= length ? { view: store.subarray(at, at + count) } : undefined;
    },
    release() {},
    zero(count, offset) {
      const n = Number(count); // in range of a disk below 2^53 bytes, so exact
      const at = checked(offset, n, ERRNO.ENOSPC);
      store.fill(0, at, at + n);
    },
    extents(count: Offset, offset: Offset, sink: ExtentSink) {
      sink.add(offset, count, EXTENT.DATA); // always fully allocated, like nbdkit's m_alloc_extents
    },
    allocatedBytes: () => length,
  };
}

/** The flat store, or a ConfigError saying why this runtime cannot hold `size` bytes. */
function allocate(size: bigint): Uint8Array {
  if (size > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new ConfigError(`allocator=malloc: cannot allocate ${size} bytes: use allocator=sparse`);
  }
  try {
    return new Uint8Array(Number(size));
  } catch (error) {
    const reason = messageOf(error);
    throw new ConfigError(
      `allocator=malloc: cannot allocate ${size} bytes (${reason}): use allocator=sparse`,
    );
  }
}
