/**
 * Signals and parent watching on Node's `process`, which Bun implements as well: shared by the
 * Node and Bun adapters.
 */

import process from "node:process";

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/**
 * Calls `handler` on each SIGINT, SIGTERM or SIGHUP. A listener replaces the default action, so
 * a signal repeated while the server stops does not kill it; main() ignores the repeats.
 */
export function onShutdownSignal(handler: (signal: string) => void): void {
  for (const signal of SIGNALS) process.on(signal, () => handler(signal));
}

/** Sends ourselves SIGTERM once the parent that started us is gone (--exit-with-parent). */
export function exitWithParent(): void {
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid !== parent) process.kill(process.pid, "SIGTERM");
  }, 1000);
  timer.unref();
}
