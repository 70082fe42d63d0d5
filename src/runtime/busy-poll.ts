/**
 * Busy polling after bytes arrive, for every runtime's sockets: for a short window after the last
 * received chunk the event loop keeps polling without sleeping (a chain of setImmediate callbacks
 * makes it poll with a zero timeout), as Linux's SO_BUSY_POLL does for a socket. On a VM an idle
 * core is halted, and waking it for the next request costs tens of microseconds: a client with one
 * request at a time pays that on every request (4k randread qd1 on an idle 2-core VM, Node: 15–17k
 * IOPS without, 34–41k with; nbdkit 20–21k). A server without traffic never spins, and one under
 * load is busy anyway; a client at queue depth 1 keeps one core busy while it runs.
 * Node and Bun use it. Deno does not: its socket reads complete through its own I/O driver, which
 * a chain of setImmediate, setTimeout(0) or MessageChannel callbacks does not poll any sooner
 * (measured: 15–17k IOPS with each, as without).
 */

import process from "node:process";
import { setImmediate } from "node:timers";

/** Default window: Linux's suggested net.core.busy_poll for latency-sensitive sockets. */
export const BUSY_POLL_DEFAULT_US = 50;

/**
 * Reads the window from NBDTS_BUSY_POLL_US (microseconds; 0 turns busy polling off), given the
 * variable's text or undefined; anything that is not a number up to 10 ms is the default.
 */
export function busyPollWindowUs(text: string | undefined): number {
  const us = text === undefined || text.trim() === "" ? NaN : Number(text);
  return Number.isFinite(us) && us >= 0 && us <= 10_000 ? us : BUSY_POLL_DEFAULT_US;
}

/**
 * Answers the function to call after each received chunk. `defer` runs a callback after the
 * runtime has polled for I/O once (setImmediate); one poller serves the whole process.
 */
export function busyPoller(defer: (callback: () => void) => void, windowUs: number): () => void {
  if (windowUs <= 0) return () => {};
  const windowMs = windowUs / 1000;
  let last = 0;
  let spinning = false;
  const spin = () => {
    if (performance.now() - last < windowMs) defer(spin);
    else spinning = false;
  };
  return () => {
    last = performance.now();
    if (spinning) return;
    spinning = true;
    defer(spin);
  };
}

/** The process's poller: every adapter calls it after handing a received chunk to a session. */
export const busyPoll: () => void = busyPoller(
  (callback) => void setImmediate(callback),
  busyPollWindowUs(process.env.NBDTS_BUSY_POLL_US),
);
