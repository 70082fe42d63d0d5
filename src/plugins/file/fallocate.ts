/**
 * How one connection of the file plugin trims and zeroes, as nbdkit's does with fallocate: trim
 * punches a hole; zero punches one when the client allows it, else zeroes the range in place,
 * else punches and allocates again; each way the file refuses (EOPNOTSUPP) is not tried again
 * on this connection, and when none is left the server writes zeroes instead.
 */

import { ERRNO, type Errno, messageOf, NbdError } from "../../api/errors.ts";
import type { DiskFile } from "../../io.ts";

/** The errno name a DiskFile call failed with (its `code`), or undefined. */
function codeOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === "string" ? code : undefined;
}

function isNotSupported(error: unknown): boolean {
  const code = codeOf(error);
  return code === "EOPNOTSUPP" || code === "ENOTSUP";
}

/** A failed call as the error the client gets: nbdkit sends errnos it has no name for as EINVAL. */
export function failure(what: string, name: string, error: unknown): NbdError {
  if (error instanceof NbdError) return error;
  const code = codeOf(error);
  const errno = code !== undefined && code in ERRNO ? code as Errno : ERRNO.EINVAL;
  return new NbdError(errno, `${what}: ${name}: ${messageOf(error)}`);
}

export interface Fallocate {
  /** Punches a hole where it can; failures other than EIO and EPERM are ignored (trim is advice). */
  trim(count: number, offset: number): Promise<void>;
  /** Zeroes without writing, or throws ENOTSUP (EOPNOTSUPP) for the server to write zeroes. */
  zero(count: number, offset: number, mayTrim: boolean): Promise<void>;
}

/** `name` is the path or export name for error messages. */
export function createFallocate(file: DiskFile, name: string): Fallocate {
  let canPunch = file.punchHole !== undefined;
  let canZeroRange = file.zeroRange !== undefined;
  let canAllocate = file.allocate !== undefined;

  /** Runs `call`: true when it worked, false when the file cannot do it; else throws. */
  async function attempt(call: () => void | Promise<void>): Promise<boolean> {
    try {
      await call();
      return true;
    } catch (error) {
      if (isNotSupported(error)) return false;
      throw failure("zero", name, error);
    }
  }

  return {
    async trim(count, offset) {
      if (!canPunch) return;
      try {
        await file.punchHole!(offset, count);
      } catch (error) {
        const code = codeOf(error);
        if (code === "EIO" || code === "EPERM") throw failure("fallocate", name, error);
        if (isNotSupported(error)) canPunch = false;
      }
    },

    async zero(count, offset, mayTrim) {
      if (canPunch && mayTrim) {
        if (await attempt(() => file.punchHole!(offset, count))) return;
        canPunch = false;
      }
      if (canZeroRange) {
        if (await attempt(() => file.zeroRange!(offset, count))) return;
        canZeroRange = false;
      }
      // A hole allocated again reads as zeroes and keeps the blocks a NO_HOLE client wants;
      // if allocating fails, writing zeroes fills the hole.
      if (canPunch && canAllocate) {
        if (!await attempt(() => file.punchHole!(offset, count))) canPunch = false;
        else if (await attempt(() => file.allocate!(offset, count))) return;
        else canAllocate = false;
      }
      throw new NbdError(ERRNO.EOPNOTSUPP, "zero: falling back to writing");
    },
  };
}
