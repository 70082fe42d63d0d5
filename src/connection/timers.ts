/**
 * Timers from the web-standard setTimeout and clearTimeout, for the handshake deadline: each
 * pending timer is unref'd where its handle can be (Node's, Deno's and Bun's handles all have
 * unref()), so it never keeps the process alive; where handles are plain numbers (browsers)
 * there is no process to keep. The core reads no clock itself: it is handed Timers.
 */

import type { Timers } from "../io.ts";

/** A setTimeout handle that may be unref'd in place. */
interface Unrefable {
  unref?: () => unknown;
}

/** Timers from setTimeout, each timer unref'd. */
export function webTimers(): Timers {
  return {
    after(ms, fire) {
      const timer: unknown = setTimeout(fire, ms);
      if (typeof timer === "object" && timer !== null) (timer as Unrefable).unref?.();
      return () => clearTimeout(timer as number);
    },
  };
}
