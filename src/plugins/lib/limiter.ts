/**
 * A counting semaphore for outgoing requests: at most `slots` run at once, the rest wait in
 * arrival order. The curl and s3 plugins put every request to their server through one, so a
 * plugin's parameter (connections=) bounds the connections a runtime's fetch opens.
 */

import { ConfigError } from "../../api/errors.ts";
import { parseUnsigned } from "../../api/parse-integer.ts";

/** connections=N, the slots of a plugin's limiter: a whole number from 1. */
export function parseConnections(value: string): number {
  const slots = parseUnsigned("connections", value);
  if (slots < 1) throw new ConfigError("connections: must be at least 1");
  return slots;
}

export interface Limiter {
  /** Runs `task` once a slot is free, holding the slot until its promise settles. */
  run<T>(task: () => Promise<T>): Promise<T>;
}

export function createLimiter(slots: number): Limiter {
  let busy = 0;
  const waiting: (() => void)[] = [];
  const release = () => {
    const next = waiting.shift();
    if (next) next(); // the slot passes straight to the next task
    else busy--;
  };
  return {
    async run(task) {
      if (busy < slots) busy++;
      else await new Promise<void>((resolve) => waiting.push(resolve));
      try {
        return await task();
      } finally {
        release();
      }
    },
  };
}
