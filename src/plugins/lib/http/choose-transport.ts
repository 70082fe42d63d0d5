/**
 * Picks how a plugin sends its HTTP requests: over the runtime's own connections when it can
 * open them (PluginHost.connect), over fetch at the edge and wherever a proxy is set in the
 * environment (fetch takes it from there; the socket transport speaks only to the server).
 */

import type { PluginHost } from "../../../io.ts";
import { fetchTransport } from "./fetch-transport.ts";
import { socketTransport } from "./socket-transport.ts";
import type { HttpTransport } from "./transport.ts";

const PROXY_VARIABLES = ["http_proxy", "https_proxy", "all_proxy"];

export function chooseTransport(host: PluginHost | undefined): HttpTransport {
  const proxied = PROXY_VARIABLES.some((name) =>
    host?.getEnv(name) || host?.getEnv(name.toUpperCase())
  );
  return host?.connect && !proxied ? socketTransport(host.connect) : fetchTransport();
}
