/**
 * The words of -v's lines, as nbdkit 1.32.5 writes them so a reader can follow either server's
 * log: option and reply names (NBD_OPT_GO, NBD_REP_ACK), one line per request as nbdkit's
 * backend logs it ("memory: pread count=512 offset=0"), a failed request, an error reply, a
 * callback's stack. Pure functions: the caller decides whether the line prints (api/log.ts)
 * before calling any of them.
 */

import type { Errno } from "../api/errors.ts";
import { CallbackError } from "../backend/callback-error.ts";
import type { Request } from "../protocol/codec.ts";
import { CMD, CMD_FLAG, nameOf, OPT, REP } from "../protocol/constants.ts";

/** NBD_OPT_GO; an unknown code as nbdkit shows one ("unknown (0x2a)"). */
export function optionName(option: number): string {
  return knownName("NBD_OPT_", OPT, option);
}

/** NBD_REP_ACK, NBD_REP_ERR_UNSUP … */
export function replyName(reply: number): string {
  return knownName("NBD_REP_", REP, reply);
}

/** NBD_CMD_READ, NBD_CMD_DISC … */
export function commandName(type: number): string {
  return knownName("NBD_CMD_", CMD, type);
}

function knownName(prefix: string, table: Readonly<Record<string, number>>, value: number) {
  const name = nameOf(table, value);
  return name.startsWith("unknown") ? `unknown (0x${value.toString(16)})` : prefix + name;
}

/** "newstyle negotiation: NBD_OPT_GO: what", nbdkit's line about one option. */
export function optionLine(option: number, what: string): string {
  return `newstyle negotiation: ${optionName(option)}: ${what}`;
}

/** 0 or 1, as nbdkit prints a flag. */
function bit(flags: number, flag: number): 0 | 1 {
  return (flags & flag) === 0 ? 0 : 1;
}

/**
 * A request as nbdkit's backend logs it before calling the plugin, under `layer` (the plugin's
 * name): the callback's nbdkit name (pread, pwrite, zero, trim, flush, cache, extents), then
 * count, offset and the flags that callback takes.
 */
export function requestLine(layer: string, req: Request): string {
  const at = `count=${req.length} offset=${req.offset}`;
  const flags = req.flags;
  switch (req.type) {
    case CMD.READ:
      return `${layer}: pread ${at}`;
    case CMD.WRITE:
      return `${layer}: pwrite ${at} fua=${bit(flags, CMD_FLAG.FUA)}`;
    case CMD.FLUSH:
      return `${layer}: flush`;
    case CMD.TRIM:
      return `${layer}: trim ${at} fua=${bit(flags, CMD_FLAG.FUA)}`;
    case CMD.CACHE:
      return `${layer}: cache ${at}`;
    case CMD.WRITE_ZEROES: {
      const mayTrim = 1 - bit(flags, CMD_FLAG.NO_HOLE);
      const fast = bit(flags, CMD_FLAG.FAST_ZERO);
      return `${layer}: zero ${at} may_trim=${mayTrim} fua=${
        bit(flags, CMD_FLAG.FUA)
      } fast=${fast}`;
    }
    case CMD.BLOCK_STATUS:
      return `${layer}: extents ${at} req_one=${bit(flags, CMD_FLAG.REQ_ONE)}`;
    default:
      return `${layer}: ${commandName(req.type)} ${at}`;
  }
}

/**
 * A request the plugin failed: the request as requestLine names it, then what the plugin said,
 * and with `stack` (-v) where it was thrown, one frame a line.
 */
export function failureLine(layer: string, req: Request, error: unknown, stack: boolean): string {
  const message = error instanceof Error ? error.message : String(error);
  const frames = stack ? stackFrames(error) : "";
  return `${requestLine(layer, req)}: ${message}${frames}`;
}

/**
 * The frames of a thrown Error's stack ("\n    at …" lines), or "" when it has none; for a
 * failed callback (backend/callback-error.ts), the frames of what the callback threw.
 */
export function stackFrames(error: unknown): string {
  if (error instanceof CallbackError) return stackFrames(error.cause);
  if (!(error instanceof Error) || typeof error.stack !== "string") return "";
  const at = error.stack.indexOf("\n    at ");
  return at < 0 ? "" : error.stack.slice(at);
}

/** The text of an errno, as strerror(3) on Linux gives it: nbdkit's "sending error reply: …". */
const ERRNO_TEXT: Record<Errno, string> = {
  EPERM: "Operation not permitted",
  EROFS: "Read-only file system",
  EIO: "Input/output error",
  ENOMEM: "Cannot allocate memory",
  EINVAL: "Invalid argument",
  ENOSPC: "No space left on device",
  EDQUOT: "Disk quota exceeded",
  EFBIG: "File too large",
  EOVERFLOW: "Value too large for defined data type",
  ENOTSUP: "Operation not supported",
  EOPNOTSUPP: "Operation not supported",
  ESHUTDOWN: "Cannot send after transport endpoint shutdown",
  ENOENT: "No such file or directory",
  EBADF: "Bad file descriptor",
  ERANGE: "Numerical result out of range",
};

/** "sending error reply: Input/output error", nbdkit's line for a request that failed. */
export function errorReplyLine(errno: Errno): string {
  return `sending error reply: ${ERRNO_TEXT[errno] ?? errno}`;
}
