/**
 * Finds the plugin the command line names: a built-in by its short name ("memory"), or a module
 * by path ("./my-plugin.ts") exporting a plugin or a factory as `default` or `plugin`. Checks
 * what nbdkit checks when it loads one: a valid name and an open() callback.
 */

import { isPluginName } from "./config-key.ts";
import { ConfigError } from "../api/errors.ts";
import type { Runtime } from "../io.ts";
import { checkLayerName, loadLayerObject } from "./load-module.ts";
import type { Plugin } from "../api/plugin.ts";
import { BUILTIN_PLUGINS } from "../plugins/registry.ts";

export async function loadPlugin(runtime: Runtime, word: string): Promise<Plugin> {
  const plugin = await loadLayerObject(runtime, word, "plugin", BUILTIN_PLUGINS);
  if (typeof plugin !== "object" || plugin === null || typeof plugin.open !== "function") {
    throw new ConfigError(`plugin "${word}" has no open() callback`);
  }
  checkLayerName(plugin, word, "plugin", isPluginName);
  return plugin;
}
