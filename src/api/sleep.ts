/**
 * sleep(ms): waits in a request, nbdkit_nanosleep's counterpart (the delay filter's): resolves
 * after `ms` milliseconds, or rejects with ESHUTDOWN as soon as the server begins to stop, so a
 * long delay never holds up the server's end. Unlike nbdkit's, it
 * is not cut short when the client alone goes away. Pending sleeps live on globalThis under a
 * registry symbol, so a plugin that bundles its own copy of this module still hears the server.
 */

import { ERRNO, NbdError } from "./errors.ts";

/** The longest a timer waits at once (setTimeout's limit, 2^31-1 ms); longer sleeps chain. */
const LONGEST_TIMER = 0x7fff_ffff;

const SLEEPS: unique symbol = Symbol.for("nbdts.sleeps");

/** Each pending sleep's way to end early. */
function sleeps(): Set<() => void> {
  const global = globalThis as { [SLEEPS]?: Set<() => void> };
  return global[SLEEPS] ??= new Set();
}

function shuttingDown(): NbdError {
  return new NbdError(ERRNO.ESHUTDOWN, "server is shutting down");
}

/** Waits `ms` milliseconds; rejects with ESHUTDOWN if the server stops meanwhile. */
export function sleep(ms: number): Promise<void> {
  const pending = sleeps();
  return new Promise((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const wake = () => {
      clearTimeout(timer);
      pending.delete(wake);
      reject(shuttingDown());
    };
    const wait = (left: number) => {
      timer = setTimeout(() => {
        if (left > LONGEST_TIMER) return wait(left - LONGEST_TIMER);
        pending.delete(wake);
        resolve();
      }, Math.min(left, LONGEST_TIMER));
    };
    pending.add(wake);
    wait(ms);
  });
}

/** A server is stopping: every pending sleep() fails now. */
export function endSleeps(): void {
  for (const wake of [...sleeps()]) wake();
}
