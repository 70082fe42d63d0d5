/**
 * Callbacks answer a value or a promise of it (`MaybePromise`); these helpers let a layer go on
 * after one without making a promise when the answer came synchronously, the fast path for
 * plugins that keep their data in memory.
 */

import type { MaybePromise } from "./plugin.ts";

/**
 * Whether an answer is still to come (a promise, or any object with a then method): anything
 * else is the answer, given synchronously.
 */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === "function";
}

/**
 * Runs `then` once `done` has succeeded: at once when it is not a promise (no promise is
 * made), else when it settles. A failure of `done` passes through and `then` never runs.
 */
export function afterwards<T>(done: MaybePromise<unknown>, then: () => T): MaybePromise<T> {
  if (!isThenable(done)) return then();
  return Promise.resolve(done).then(then);
}
