/**
 * Hands a runtime's own listen() and HTTP server to its PluginHost, so that plugins listen as the
 * program does (the nbd plugin's websocket-listen=, where a web page serving a disk dials in) and
 * filters serve HTTP (the stats filter's statslisten=). Runtime-neutral.
 */

import type { PluginHost, Runtime } from "../io.ts";

export function withPluginListen(runtime: Runtime, serveHttp?: PluginHost["serveHttp"]): Runtime {
  const host = runtime.host && { ...runtime.host, listen: runtime.listen, serveHttp };
  return { ...runtime, host };
}
