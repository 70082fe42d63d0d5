/**
 * A BLOCK_STATUS request answered: the backend's extents for the range, as one base:allocation
 * status chunk (the only meta context served), BLOCK_STATUS_EXT with extended headers. A plugin
 * that gives no extent fails it. Also says how much one such request may hold while it runs.
 */

import { NbdError } from "../api/errors.ts";
import type { Backend } from "../backend/backend.ts";
import { ExtentList } from "../backend/extents.ts";
import type { Request } from "../protocol/codec.ts";
import { BASE_ALLOCATION_ID, CMD_FLAG } from "../protocol/constants.ts";
import { LIMITS } from "../protocol/limits.ts";
import { encodeBlockStatus } from "../protocol/block-status-reply.ts";

/** The reply chunk for `req`; throws (or rejects) as the backend does. */
export async function blockStatusReply(
  backend: Backend,
  req: Request,
  extended: boolean,
): Promise<Uint8Array> {
  const reqOne = (req.flags & CMD_FLAG.REQ_ONE) !== 0;
  const list = new ExtentList(req.offset, backend.caps.size, extentCap(extended));
  await backend.extents(req.length, req.offset, reqOne, list);
  if (list.types.length === 0) {
    throw new NbdError("EINVAL", "extents: plugin returned no extents for the requested range");
  }
  const { lengths, statuses } = list.toDescriptors(req.length, reqOne, extended);
  return encodeBlockStatus(req, BASE_ALLOCATION_ID, lengths, statuses, extended);
}

/** The most extents one reply describes: nbdkit's cap, or qemu-nbd's with extended headers. */
function extentCap(extended: boolean): number {
  return extended ? LIMITS.MAX_EXTENTS_EXTENDED : LIMITS.MAX_EXTENTS;
}

/**
 * What one BLOCK_STATUS counts against the connection's bytes in flight until its reply is
 * queued: the most its extent list, descriptors and reply may take together.
 */
export function blockStatusHold(extended: boolean): number {
  return extentCap(extended) * LIMITS.BLOCK_STATUS_BYTES_PER_EXTENT;
}
