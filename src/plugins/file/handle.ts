/**
 * One connection's view of an open file for the file plugin: full reads and writes at
 * explicit offsets, flush as fdatasync, native FUA as a flush after the write, and, where the
 * runtime reaches fallocate and SEEK_DATA, trim, zero and extents as nbdkit's.
 */

import { ERRNO, messageOf, NbdError } from "../../api/errors.ts";
import type { DiskFile } from "../../io.ts";
import { CACHE_MODE, FLAG, FUA_MODE, type Handle } from "../../api/plugin.ts";
import { reportExtents, type SeekableFile } from "./extents.ts";
import { createFallocate, failure } from "./fallocate.ts";

/** The handle over `file`; `name` is the path or export name for error messages. */
export function createFileHandle(file: DiskFile, name: string): Handle {
  const flush = async () => {
    try {
      await file.sync();
    } catch (error) {
      throw new NbdError(ERRNO.EIO, `fdatasync: ${name}: ${messageOf(error)}`);
    }
  };

  const fallocate = createFallocate(file, name);
  const seekable = file.nextData && file.nextHole ? file as SeekableFile : undefined;

  return {
    // Asked per connection (and per call): a file that grew since is seen whole.
    getSize: () => file.size(),

    // A read or write may move fewer bytes than asked: keep going until all have moved.
    async readAt(buf, offset) {
      let at = offset as number; // the file is below 2^53 bytes: always a number
      for (let done = 0; done < buf.length;) {
        const n = await file.read(buf.subarray(done), at);
        if (n === 0) throw new NbdError(ERRNO.EIO, "pread: unexpected end of file");
        done += n;
        at += n;
      }
    },

    async writeAt(buf, offset, flags) {
      let at = offset as number;
      for (let done = 0; done < buf.length;) {
        const n = await file.write(buf.subarray(done), at);
        done += n;
        at += n;
      }
      if (flags & FLAG.FUA) await flush();
    },

    flush,

    // Trim punches a hole, as nbdkit on Linux does. Where the runtime cannot punch, trim is
    // not offered: a range the client trimmed would otherwise keep its data.
    async trim(count, offset, flags) {
      await fallocate.trim(count, offset as number);
      if (flags & FLAG.FUA) await flush();
    },

    // Without fallocate (or when it says EOPNOTSUPP) the server writes zeroes instead, as
    // nbdkit falls back to doing.
    async zero(count, offset, flags) {
      await fallocate.zero(count, offset as number, (flags & FLAG.MAY_TRIM) !== 0);
      if (flags & FLAG.FUA) await flush();
    },
    canZero: () => file.punchHole !== undefined || file.zeroRange !== undefined,
    // As nbdkit's: zeroing may end up writing, so it is never promised to be fast.
    canFastZero: () => false,

    // Holes found with SEEK_DATA and SEEK_HOLE; without them the whole file is data.
    extents(count, offset, flags, sink) {
      try {
        reportExtents(seekable!, count, offset as number, (flags & FLAG.REQ_ONE) !== 0, sink);
      } catch (error) {
        throw failure("extents", name, error);
      }
    },
    // As nbdkit asks: a file system where SEEK_HOLE fails keeps no holes to report.
    canExtents() {
      try {
        seekable?.nextHole(0);
        return seekable !== undefined;
      } catch {
        return false;
      }
    },

    canWrite: () => !file.readonly,
    canFua: () => FUA_MODE.NATIVE,
    canTrim: () => file.punchHole !== undefined,
    // Every connection sees the same file through the page cache, and flush is fdatasync.
    canMultiConn: () => true,
    // nbdkit advises the kernel (posix_fadvise WILLNEED); with no such call a cache request
    // simply succeeds, which is what advice amounts to.
    canCache: () => CACHE_MODE.NATIVE,

    close: () => file.close(),
  };
}
