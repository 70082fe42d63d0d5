/**
 * Checks what a plugin's callbacks answer before the server relies on it: a handle from open(),
 * a size from getSize(), true or false from each can*() question, nothing from readAt(), views of
 * exactly the bytes asked for from readViews(). In C,
 * nbdkit's types and parsers make these mistakes impossible or an error (a size the sh plugin
 * cannot parse fails the open); in JavaScript any value can come back, so each wrong one throws
 * here (a TypeError, or EINVAL for a size, as before): logged as a plugin bug and, for a
 * request, EIO, never a wrong answer sent on to the client or a crashed connection.
 */

import { ERRNO, NbdError } from "../api/errors.ts";
import type { ZeroMode } from "../api/filter.ts";
import type { CacheMode, FuaMode, Handle, Offset, ReadViews } from "../api/plugin.ts";

export { isThenable } from "../api/maybe-promise.ts";

/** 2^63 - 1: the largest size NBD carries in its signed-64-bit range, and nbdkit's limit. */
const MAX_SIZE = (1n << 63n) - 1n;

/** A value as it reads in an error message: strings quoted, everything else as JavaScript shows it. */
function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return String(value);
  if (value instanceof Uint8Array) return `a Uint8Array of ${value.length} bytes`;
  if (typeof value === "object" && value !== null) return "an object";
  return String(value);
}

/** open() must give an object with getSize() and readAt(); the error names what is missing. */
export function checkHandle(value: unknown): Handle {
  const handle = value as Partial<Handle> | null | undefined;
  if (typeof handle !== "object" || handle === null) {
    throw new TypeError(
      `open returned ${show(value)}: expected a handle with getSize() and readAt()`,
    );
  }
  const missing = (["getSize", "readAt"] as const).filter((name) =>
    typeof handle[name] !== "function"
  );
  if (missing.length > 0) {
    const methods = missing.map((name) => `${name}()`).join(" or ");
    throw new TypeError(`open returned a handle without ${methods}: both are required`);
  }
  return handle as Handle;
}

/** getSize() must give an integer from 0 to 2^63-1: a safe-integer number or a bigint. */
export function checkSize(value: unknown): Offset {
  const valid = typeof value === "number"
    ? Number.isSafeInteger(value) && value >= 0
    : typeof value === "bigint" && value >= 0n && value <= MAX_SIZE;
  if (!valid) {
    throw new NbdError(
      ERRNO.EINVAL,
      `getSize returned an invalid size (${show(value)}): expected an integer from 0 to 2^63-1`,
    );
  }
  return value as Offset;
}

/** A yes/no question (canWrite, canFlush, isRotational …) must be answered true or false. */
export function checkBoolean(question: string, value: unknown): boolean {
  if (typeof value !== "boolean") {
    throw new TypeError(`${question} returned ${show(value)}: expected true or false`);
  }
  return value;
}

/**
 * canFua, canCache and canZero answer a boolean or one of their modes (0, 1, 2), or nothing
 * at all.
 */
export function checkMode<Mode extends FuaMode | CacheMode | ZeroMode>(
  question: string,
  value: unknown,
): Mode | boolean | undefined {
  if (value === undefined || typeof value === "boolean") return value;
  if (value === 0 || value === 1 || value === 2) return value as Mode;
  throw new TypeError(`${question} returned ${show(value)}: expected true, false, 0, 1 or 2`);
}

/**
 * readAt() fills the buffer it is given and returns nothing (returning the buffer itself, as
 * `buf.fill(0)` does, is fine). Anything else most likely means the plugin returned its data
 * instead of copying it in, and the buffer would go out holding stale bytes.
 */
export function checkReadResult(value: unknown, buf: Uint8Array): void {
  if (value === undefined || value === buf) return;
  throw new TypeError(
    `readAt returned ${show(value)}: it must fill the buffer it is given ` +
      `(${buf.length} bytes) and return nothing`,
  );
}

/**
 * readViews() answers undefined, or views whose lengths add up to `count` with a release():
 * anything else is refused (released first, when it can be, so its pages are not held).
 */
export function checkReadViews(value: unknown, count: number): ReadViews | undefined {
  if (value === undefined) return undefined;
  const lent = value as Partial<ReadViews> | null;
  let total = -1;
  if (typeof lent === "object" && lent !== null && typeof lent.release === "function") {
    if (Array.isArray(lent.views)) {
      total = 0;
      for (const view of lent.views) total += view instanceof Uint8Array ? view.length : NaN;
    }
    if (total === count) return lent as ReadViews;
    lent.release();
  }
  const what = total >= 0 ? `views of ${total} bytes` : show(value);
  throw new TypeError(
    `readViews returned ${what}: it must give views of exactly ${count} bytes and a release()`,
  );
}
