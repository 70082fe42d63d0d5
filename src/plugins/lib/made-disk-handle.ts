/**
 * The handle over a disk the tmpdisk or ondemand plugin made: whole reads and writes at the
 * client's offsets, trim as a punched hole where the runtime can punch (advisory: nothing
 * otherwise), no multi-conn. `durable` is ondemand's: flush is fdatasync and FUA is honoured;
 * tmpdisk's disks die with the connection, so it promises FUA and flushes, and does neither.
 */

import { ERRNO, messageOf, NbdError } from "../../api/errors.ts";
import { FLAG, FUA_MODE, type Handle } from "../../api/plugin.ts";
import type { DiskFile } from "../../io.ts";

export function madeDiskHandle(file: DiskFile, size: number, durable: boolean): Handle {
  const flush = async () => {
    if (!durable) return;
    try {
      await file.sync();
    } catch (error) {
      throw new NbdError(ERRNO.EIO, `fdatasync: ${messageOf(error)}`);
    }
  };
  let canPunch = file.punchHole !== undefined;
  return {
    getSize: () => size,
    async readAt(buf, offset) {
      for (let done = 0; done < buf.length;) {
        const n = await file.read(buf.subarray(done), (offset as number) + done);
        if (n === 0) throw new NbdError(ERRNO.EIO, "pread: unexpected end of file");
        done += n;
      }
    },
    async writeAt(buf, offset, flags) {
      for (let done = 0; done < buf.length;) {
        done += await file.write(buf.subarray(done), (offset as number) + done);
      }
      if (flags & FLAG.FUA) await flush();
    },
    flush,
    async trim(count, offset, flags) {
      if (canPunch) {
        try {
          await file.punchHole!(offset as number, count);
        } catch (error) {
          const code = (error as { code?: string }).code;
          // Advisory, as in nbdkit: only EIO and EPERM fail the request.
          if (code === "EIO" || code === "EPERM") {
            throw new NbdError(code, `fallocate: ${messageOf(error)}`);
          }
          if (code === "EOPNOTSUPP") canPunch = false;
        }
      }
      if (flags & FLAG.FUA) await flush();
    },
    canTrim: () => true,
    canFua: () => FUA_MODE.NATIVE,
    canMultiConn: () => false,
    close: () => file.close(),
  };
}
