/**
 * A Server for a configured plugin (configuration is backend/configure.ts): the options that
 * change the protocol, the limits resolved, the thread model the plugin asks for, where the
 * plugin's own error lines go, and what its shutdown() does.
 */

import { routeErrors } from "../api/error-log.ts";
import { routeShutdown } from "../api/shutdown.ts";
import type { Log } from "../api/log.ts";
import type { Plugin, ThreadModel } from "../api/plugin.ts";
import { checkThreadModel } from "../backend/configure.ts";
import type { Timers } from "../io.ts";
import { type LimitOptions, resolveLimits } from "../protocol/limits.ts";
import { ServerContext } from "./context.ts";
import { Server } from "./server.ts";
import type { TlsMode } from "./tls-mode.ts";

export interface ServeOptions extends LimitOptions {
  /** -r: every connection read-only. */
  readonly?: boolean;
  /** --no-sr: refuse structured replies (and extended headers, their successor). */
  noStructuredReplies?: boolean;
  /** --no-extended-headers: refuse NBD_OPT_EXTENDED_HEADERS, for testing clients' fallback. */
  noExtendedHeaders?: boolean;
  /** -o: greet in oldstyle, serving the one export "" without options. */
  oldstyle?: boolean;
  /** --tls after start-up; absent for a server without TLS (see ServerContext). */
  tls?: TlsMode;
  /** The clock of the handshake deadline (tests drive their own); setTimeout by default. */
  timers?: Timers;
}

/** A Server for a configured plugin, honouring its thread model. */
export async function buildServer(
  plugin: Plugin,
  options: ServeOptions,
  log: Log,
): Promise<Server> {
  const limits = resolveLimits(options);
  routeErrors((message) => log.error(plugin.name, message)); // plugins' and filters' logError
  const threadModel = await threadModelOf(plugin);
  const ctx = new ServerContext(plugin, threadModel, {
    readonly: options.readonly ?? false,
    noStructuredReplies: options.noStructuredReplies ?? false,
    noExtendedHeaders: options.noExtendedHeaders ?? false,
    oldstyle: options.oldstyle ?? false,
    tls: options.tls,
    limits,
    timers: options.timers,
  }, log);
  const server = new Server(ctx);
  // A plugin's or filter's shutdown() stops taking clients; main.ts routes it to its full stop.
  routeShutdown(() => void server.shutdown());
  return server;
}

async function threadModelOf(plugin: Plugin): Promise<ThreadModel> {
  return checkThreadModel(plugin.name, await plugin.threadModel?.());
}
