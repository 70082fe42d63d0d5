/** Every ProcessSignal (io.ts), for the adapters to listen to. */

import type { ProcessSignal } from "../io.ts";

export const SIGNALS: readonly ProcessSignal[] = [
  "SIGINT",
  "SIGTERM",
  "SIGHUP",
  "SIGQUIT",
  "SIGUSR1",
];
