/**
 * One nbd plugin handle: each callback becomes the matching request on an NbdClient, with the
 * plugin API's flags turned into the command's (nbdkit's nbd.c does the same with libnbd), the
 * server's extents passed on as they come, and a refusal passed on as the server's errno (the
 * client rejects with NbdError). Where the server agreed to extended headers the handle takes
 * large counts: a zero, trim, cache or map of 4 GiB or more from a client with extended headers
 * goes on as one request. A shared handle is never disconnected by its clients.
 */

import { CMD_FLAG } from "../../protocol/constants.ts";
import { CACHE_MODE, EXTENT, FLAG, FUA_MODE, type Handle, type Offset } from "../../api/plugin.ts";
import type { NbdClient } from "../../client/client.ts";

/** FUA passes on as FUA; zero's MAY_TRIM is the absence of NO_HOLE. */
function commandFlags(flags: number, zero = false): number {
  let out = flags & FLAG.FUA ? CMD_FLAG.FUA : 0;
  if (zero && !(flags & FLAG.MAY_TRIM)) out |= CMD_FLAG.NO_HOLE;
  if (zero && flags & FLAG.FAST_ZERO) out |= CMD_FLAG.FAST_ZERO;
  return out;
}

/** The base:allocation bits that are also the plugin API's extent types (HOLE 1, ZERO 2). */
const EXTENT_BITS = EXTENT.HOLE | EXTENT.ZERO;

export function createNbdHandle(
  client: NbdClient,
  readonly: boolean,
  shared: boolean,
): Handle<Offset> {
  return {
    largeCounts: client.extendedHeaders,
    getSize: () => client.size,
    readAt: (buf, offset) => client.pread(buf, offset),
    writeAt: (buf, offset, flags) => client.pwrite(buf, offset, commandFlags(flags)),
    zero: (count, offset, flags) => client.zero(count, offset, commandFlags(flags, true)),
    trim: (count, offset, flags) => client.trim(count, offset, commandFlags(flags)),
    flush: () => client.flush(),
    cache: (count, offset) => client.cache(count, offset),
    async extents(count, offset, flags, extents) {
      const reqOne = flags & FLAG.REQ_ONE ? CMD_FLAG.REQ_ONE : 0;
      for (const extent of await client.blockStatus(count, offset, reqOne)) {
        extents.add(extent.offset, extent.length, extent.flags & EXTENT_BITS);
      }
    },
    canWrite: () => !client.readOnly && !readonly,
    canFlush: () => client.canFlush,
    canFua: () => (client.canFua ? FUA_MODE.NATIVE : FUA_MODE.NONE),
    canTrim: () => client.canTrim,
    canZero: () => client.canZero,
    canFastZero: () => client.canFastZero,
    canExtents: () => client.canBlockStatus,
    canMultiConn: () => client.canMultiConn,
    canCache: () => (client.canCache ? CACHE_MODE.NATIVE : CACHE_MODE.NONE),
    isRotational: () => client.isRotational,
    exportDescription: () => client.description,
    blockSize: () => client.blockSizes,
    async close() {
      if (!shared) await client.disconnect();
    },
  };
}
