/**
 * curl (man nbdkit-curl-plugin): serves a disk image from a web server over HTTP or HTTPS,
 * reading with byte-range GETs and writing with Content-Range PUTs, through the runtime's own
 * fetch, so it runs wherever fetch does, edge runtimes included. The per-connection work is in
 * curl/handle.ts, the requests in curl/client.ts.
 */

import type { PluginHost } from "../io.ts";
import { type Plugin, THREAD_MODEL } from "../api/plugin.ts";
import { VERSION } from "../api/version.ts";
import { createHttpClient, type HttpClient } from "./curl/client.ts";
import { checkConfig, configure, defaultConfig } from "./curl/config.ts";
import { openHttpDisk } from "./curl/handle.ts";

export function createCurlPlugin(host?: PluginHost): Plugin {
  const config = defaultConfig();
  let client: HttpClient | undefined;
  return {
    name: "curl",
    longname: "nbdkit curl plugin",
    version: VERSION,
    magicConfigKey: "url",
    configHelp: [
      "connections=<N>            Requests to the web server at once (default 4).",
      "cookie=<COOKIE>            Set HTTP/HTTPS cookies.",
      "cookie-script=<SCRIPT>     Script to set HTTP/HTTPS cookies.",
      "cookie-script-renew=<SECS> Time to renew HTTP/HTTPS cookies.",
      "followlocation=false       Do not follow redirects.",
      "header=<HEADER>            Set HTTP/HTTPS header.",
      "header-script=<SCRIPT>     Script to set HTTP/HTTPS headers.",
      "header-script-renew=<SECS> Time to renew HTTP/HTTPS headers.",
      "password=<PASSWORD>        The password for the user account.",
      "protocols=PROTO,PROTO,..   Limit protocols allowed.",
      "timeout=<TIMEOUT>          Set the timeout for requests (seconds).",
      "url=<URL>       (required) The disk image URL to serve.",
      "user=<USER>                The user to log in as.",
      "user-agent=<USER-AGENT>    Send user-agent header for HTTP/HTTPS.",
    ].join("\n"),
    config: (key, value) => configure(config, key, value, host),
    configComplete() {
      checkConfig(config);
      client = createHttpClient(config, host);
    },
    // Requests run side by side; connections= bounds how many reach the server at once.
    threadModel: () => THREAD_MODEL.PARALLEL,
    open: () => openHttpDisk(client!),
    unload: () => client?.close(),
  };
}
