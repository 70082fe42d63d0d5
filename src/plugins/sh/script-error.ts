/**
 * What a failing script said on stderr, read as nbdkit's sh plugin reads it (plugins/sh/call.c,
 * handle_script_error): an errno name first, in any case, then whitespace and a message
 * ("ENOSPC Out of space"); anything else, or a name run into more letters ("EINVALID"), is EIO
 * with the whole text. Only the first line is the error; the rest goes to the debug log.
 */

import { ERRNO, type Errno } from "../../api/errors.ts";

/**
 * The names a script may start its stderr with, in nbdkit's order of trying: those NBD has a
 * code for, then those the server treats specially. EDQUOT stays EDQUOT (the wire says ENOSPC).
 */
const NAMES: readonly Errno[] = [
  ERRNO.EPERM,
  ERRNO.EIO,
  ERRNO.ENOMEM,
  ERRNO.EINVAL,
  ERRNO.ENOSPC,
  ERRNO.EOVERFLOW,
  ERRNO.ESHUTDOWN,
  ERRNO.ENOTSUP,
  ERRNO.EOPNOTSUPP,
  ERRNO.EROFS,
  ERRNO.EDQUOT,
  ERRNO.EFBIG,
];

/** C's isspace in the "C" locale. */
const SPACE = /[ \t\n\v\f\r]/;

export interface ScriptError {
  readonly errno: Errno;
  /** The first line of what follows the errno name, or undefined when stderr was empty. */
  readonly message: string | undefined;
  /** All of stderr, when it had more than one line (for the debug log). */
  readonly whole?: string;
}

/** Reads a failing script's stderr, already decoded and cut at its first NUL byte. */
export function readScriptError(stderr: string): ScriptError {
  let errno: Errno = ERRNO.EIO;
  let skip = 0;
  const upper = stderr.slice(0, 10).replace(/[a-z]/g, (c) => c.toUpperCase()); // ASCII only
  const name = NAMES.find((candidate) => upper.startsWith(candidate));
  if (name !== undefined) {
    errno = name;
    skip = name.length;
    if (skip < stderr.length) {
      if (!SPACE.test(stderr[skip])) {
        errno = ERRNO.EIO; // "EINVALID" is no EINVAL
        skip = 0;
      } else {
        while (skip < stderr.length && SPACE.test(stderr[skip])) skip++;
      }
    }
  }
  const text = stderr.replace(/\n+$/, "");
  if (text === "") return { errno, message: undefined };
  const rest = text.slice(skip);
  const newline = rest.indexOf("\n");
  if (newline < 0) return { errno, message: rest };
  return { errno, message: rest.slice(0, newline), whole: text };
}
