/**
 * The connection-cache plugin as each server loads it: nbdts loads
 * test/fixtures/conn-cache-plugin.ts, nbdkit runs test/fixtures/conn-cache-plugin.sh with its sh
 * plugin. Both keep a private copy of the disk per connection until it flushes, so they are not
 * consistent across connections: what the multi-conn filter's emulation has to repair.
 */

import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { scratchDir } from "./captive.ts";
import { REPO_ROOT, type Server } from "./servers.ts";

const TS_PLUGIN = join(REPO_ROOT, "test", "fixtures", "conn-cache-plugin.ts");
const SH_PLUGIN = join(REPO_ROOT, "test", "fixtures", "conn-cache-plugin.sh");

export interface ConnCachePlugin {
  /** The plugin and its parameters, for captive() or libnbd(). */
  readonly argv: readonly string[];
  /** The flushes that wrote changes back so far: "flush N", N the connection's number. */
  flushes(): string[];
}

/** The plugin serving a disk of `size` zero bytes. */
export function connCachePlugin(server: Server, size = 1024 * 1024): ConnCachePlugin {
  const log = join(scratchDir(), "flushes");
  const params = [`size=${size}`, `log=${log}`];
  const argv = server.name === "nbdkit" ? ["sh", SH_PLUGIN, ...params] : [TS_PLUGIN, ...params];
  return {
    argv,
    flushes: () => existsSync(log) ? readFileSync(log, "utf8").split("\n").slice(0, -1) : [],
  };
}
