/**
 * The one errno → NBD_E* mapping (nbdkit's nbd_errno): what a failed request's errno becomes
 * on the wire.
 */

import type { Errno } from "../api/errors.ts";
import { CMD_FLAG, NBD_ERR } from "./constants.ts";

/**
 * The wire error for a host errno, as nbdkit's nbd_errno: ENOTSUP only for a FAST_ZERO request
 * and EOVERFLOW only for a DF read (else both are EINVAL); unknown errnos are EINVAL.
 */
export function wireError(errno: Errno, cmdFlags: number): number {
  switch (errno) {
    case "EPERM":
    case "EROFS":
      return NBD_ERR.EPERM;
    case "EIO":
      return NBD_ERR.EIO;
    case "ENOMEM":
      return NBD_ERR.ENOMEM;
    case "ENOSPC":
    case "EDQUOT":
    case "EFBIG":
      return NBD_ERR.ENOSPC;
    case "ESHUTDOWN":
      return NBD_ERR.ESHUTDOWN;
    case "ENOTSUP":
    case "EOPNOTSUPP":
      return cmdFlags & CMD_FLAG.FAST_ZERO ? NBD_ERR.ENOTSUP : NBD_ERR.EINVAL;
    case "EOVERFLOW":
      return cmdFlags & CMD_FLAG.DF ? NBD_ERR.EOVERFLOW : NBD_ERR.EINVAL;
    default:
      return NBD_ERR.EINVAL;
  }
}
