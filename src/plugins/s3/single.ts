/**
 * A disk that is one whole object (nbdkit's S3 plugin without size=): read-only, its size the
 * object's, each read one ranged GET.
 */

import { ERRNO, NbdError } from "../../api/errors.ts";
import type { Handle } from "../../api/plugin.ts";
import type { S3Client } from "./client.ts";

export async function openSingleObject(store: S3Client, key: string): Promise<Handle> {
  const size = await store.size(key);
  if (size === undefined) throw new NbdError(ERRNO.ENOENT, `object '${key}' does not exist`);
  return {
    getSize: () => size,
    canWrite: () => false,
    canMultiConn: () => true,
    isRotational: () => false,
    async readAt(buf, offset) {
      if (buf.length === 0) return;
      if (!(await store.readRange(key, Number(offset), buf))) {
        throw new NbdError(ERRNO.EIO, `object '${key}' is gone`);
      }
    },
  };
}
