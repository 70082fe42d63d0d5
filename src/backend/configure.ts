/**
 * The plugin's life before it serves, in nbdkit's order: config(key, value) for each
 * parameter, configComplete, getReady; then connection/build-server.ts builds a Server with the
 * plugin's thread model. Shared by the command line (main.ts) and embedding (embed/serve.ts); a
 * plugin's throw here becomes a ConfigError naming the plugin.
 */

import { ConfigError, messageOf } from "../api/errors.ts";
import { type Plugin, THREAD_MODEL, type ThreadModel } from "../api/plugin.ts";

/** One plugin parameter, as `key=value` on the command line. */
export interface Param {
  readonly key: string;
  readonly value: string;
}

/** A ConfigError whose message already names the layer (plugin or filter) that failed. */
export class LayerError extends ConfigError {}

/**
 * Runs one load-time step of a plugin or filter called `name`, turning what it throws into a
 * one-line error naming it; an error a layer below already named passes through unchanged.
 */
export async function layerStep(name: string, step: () => unknown): Promise<void> {
  try {
    await step();
  } catch (error) {
    if (error instanceof LayerError) throw error;
    const message = messageOf(error);
    throw new LayerError(`${name}: error: ${message}`);
  }
}

/** Runs one step of the plugin, turning what it throws into a one-line error naming it. */
export function pluginStep(plugin: Plugin, step: () => unknown): Promise<void> {
  return layerStep(plugin.name, step);
}

/** Gives one parameter to config(). */
export async function applyParam(plugin: Plugin, key: string, value: string): Promise<void> {
  if (!plugin.config) {
    throw new LayerError(`${plugin.name}: this plugin does not need command line configuration`);
  }
  await pluginStep(plugin, () => plugin.config!(key, value));
}

/** Gives each parameter to config(), in order. */
export async function applyParams(plugin: Plugin, params: readonly Param[]): Promise<void> {
  for (const { key, value } of params) await applyParam(plugin, key, value);
}

/** configComplete, then getReady: the last chances to refuse before listening. */
export async function finishConfiguration(plugin: Plugin): Promise<void> {
  await pluginStep(plugin, () => plugin.configComplete?.());
  await pluginStep(plugin, () => plugin.getReady?.());
}

/** A layer's answer to threadModel(): PARALLEL when it gives none; anything else is refused. */
export function checkThreadModel(name: string, model: number | undefined): ThreadModel {
  if (model === undefined) return THREAD_MODEL.PARALLEL;
  if (model === 0 || model === 1 || model === 2 || model === 3) return model;
  throw new ConfigError(`${name}: invalid thread model (${model})`);
}
