/**
 * A plugin callback outside requests (open, getSize, canWrite …) failed: the error says which
 * one, so the log line of a refused export reads "open of export "": getSize() failed: disk
 * offline", and keeps what was thrown as its cause, for its stack under -v. Requests are named
 * by the connection's log itself (connection/debug-lines.ts).
 */

import { messageOf } from "../api/errors.ts";

export class CallbackError extends Error {
  /** The callback's name in our API: "getSize", "canWrite". */
  readonly callback: string;

  constructor(callback: string, cause: unknown) {
    super(`${callback}() failed: ${messageOf(cause)}`, { cause });
    this.name = "CallbackError";
    this.callback = callback;
  }
}

/** Awaits `call`, naming `callback` in what it throws. */
export async function calling<T>(callback: string, call: () => T | Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw new CallbackError(callback, error);
  }
}
