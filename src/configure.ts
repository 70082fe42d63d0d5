/**
 * The plugin's life before it serves, in nbdkit's order: config(key, value) for each
 * parameter, configComplete, getReady, then a Server built with the plugin's thread model.
 * Shared by the command line (main.ts) and embedding (embed.ts); a plugin's throw here becomes
 * a ConfigError naming the plugin.
 */

import { ServerContext } from "./context.ts";
import { ConfigError } from "./errors.ts";
import type { Timers } from "./io.ts";
import { type LimitOptions, resolveLimits } from "./limits.ts";
import type { Log } from "./log.ts";
import { type Plugin, THREAD_MODEL, type ThreadModel } from "./plugin.ts";
import { Server } from "./server.ts";

/** One plugin parameter, as `key=value` on the command line. */
export interface Param {
  readonly key: string;
  readonly value: string;
}

/** Runs one step of the plugin, turning what it throws into a one-line error naming it. */
export async function pluginStep(plugin: Plugin, step: () => unknown): Promise<void> {
  try {
    await step();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new ConfigError(`${plugin.name}: error: ${message}`);
  }
}

/** Gives each parameter to config(), in order. */
export async function applyParams(plugin: Plugin, params: readonly Param[]): Promise<void> {
  for (const { key, value } of params) {
    if (!plugin.config) {
      throw new ConfigError(`${plugin.name}: this plugin does not need command line configuration`);
    }
    await pluginStep(plugin, () => plugin.config!(key, value));
  }
}

/** configComplete, then getReady: the last chances to refuse before listening. */
export async function finishConfiguration(plugin: Plugin): Promise<void> {
  await pluginStep(plugin, () => plugin.configComplete?.());
  await pluginStep(plugin, () => plugin.getReady?.());
}

export interface ServeOptions extends LimitOptions {
  /** -r: every connection read-only. */
  readonly?: boolean;
  /** --no-sr: refuse structured replies. */
  noStructuredReplies?: boolean;
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
  const threadModel = await threadModelOf(plugin);
  const ctx = new ServerContext(plugin, threadModel, {
    readonly: options.readonly ?? false,
    noStructuredReplies: options.noStructuredReplies ?? false,
    limits,
    timers: options.timers,
  }, log);
  return new Server(ctx);
}

async function threadModelOf(plugin: Plugin): Promise<ThreadModel> {
  const model = await plugin.threadModel?.();
  if (model === undefined) return THREAD_MODEL.PARALLEL;
  if (model === 0 || model === 1 || model === 2 || model === 3) return model;
  throw new ConfigError(`${plugin.name}: invalid thread model (${model})`);
}
