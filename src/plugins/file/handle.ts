/**
 * One connection's view of an open file for the file plugin: full reads and writes at
 * explicit offsets, flush as fdatasync, and native FUA as a flush after the write.
 */

import { ERRNO, messageOf, NbdError } from "../../api/errors.ts";
import type { DiskFile } from "../../io.ts";
import { CACHE_MODE, FLAG, FUA_MODE, type Handle } from "../../api/plugin.ts";

/** The handle over `file`; `name` is the path or export name for error messages. */
export function createFileHandle(file: DiskFile, name: string): Handle {
  const flush = async () => {
    try {
      await file.sync();
    } catch (error) {
      throw new NbdError(ERRNO.EIO, `fdatasync: ${name}: ${messageOf(error)}`);
    }
  };

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

    // Trim is advisory. Punching a hole needs fallocate, which no runtime here offers, so a
    // trim only honours FUA; nbdkit on Linux advertises trim too and ignores what fails.
    async trim(_count, _offset, flags) {
      if (flags & FLAG.FUA) await flush();
    },

    // No zero(): without fallocate the server writes zeroes, as nbdkit falls back to doing
    // when fallocate says EOPNOTSUPP, and so zeroing is never fast.
    canFastZero: () => false,

    canWrite: () => !file.readonly,
    canFua: () => FUA_MODE.NATIVE,
    canTrim: () => true,
    // Every connection sees the same file through the page cache, and flush is fdatasync.
    canMultiConn: () => true,
    // nbdkit advises the kernel (posix_fadvise WILLNEED); with no such call a cache request
    // simply succeeds, which is what advice amounts to.
    canCache: () => CACHE_MODE.NATIVE,

    close: () => file.close(),
  };
}
