/** A node:fs failure as strerror's words, which nbdkit prints for %m, when the code is a usual one. */

import { messageOf } from "../api/errors.ts";

const STRERROR: Readonly<Record<string, string>> = {
  ENOENT: "No such file or directory",
  EACCES: "Permission denied",
  EISDIR: "Is a directory",
  ENOTDIR: "Not a directory",
  EROFS: "Read-only file system",
  ELOOP: "Too many levels of symbolic links",
  ENOSPC: "No space left on device",
};

/** An Error whose message is strerror's text for the failure's code, else the failure's own. */
export function reason(error: unknown): Error {
  const code = (error as { code?: string } | undefined)?.code;
  return new Error(code && STRERROR[code] ? STRERROR[code] : messageOf(error));
}
