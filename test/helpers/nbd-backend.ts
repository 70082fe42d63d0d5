/**
 * The server an nbd plugin under test proxies to: nbdkit (any plugin, any filters) in the
 * background on a private Unix socket, stopped when the test finishes.
 */

import { type BackgroundServer, startServer } from "./background.ts";

const NBDKIT = { name: "nbdkit", argv: ["nbdkit"] } as const;

/** `nbdkit -f -U SOCK [options] PLUGIN…` in the background; its socket is `.socket`. */
export function startNbdkitBackend(
  plugin: readonly string[],
  serverOptions: readonly string[] = [],
): Promise<BackgroundServer> {
  return startServer(NBDKIT, plugin, { serverOptions });
}
