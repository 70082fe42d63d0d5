/**
 * Hands a runtime's own listen() to its PluginHost, so that plugins listen as the program does
 * (the nbd plugin's websocket-listen=, where a web page serving a disk dials in). Runtime-neutral.
 */

import type { Runtime } from "../io.ts";

export function withPluginListen(runtime: Runtime): Runtime {
  const host = runtime.host && { ...runtime.host, listen: runtime.listen };
  return { ...runtime, host };
}
