/**
 * Finds the plugin the command line names: a built-in by its short name ("memory"), or a module
 * by path ("./my-plugin.ts") exporting a plugin or a factory as `default` or `plugin`. Checks
 * what nbdkit checks when it loads one: a valid name and an open() callback.
 */

import { isPluginName, isShortPluginName } from "./cli/config-key.ts";
import { ConfigError } from "./errors.ts";
import type { Runtime } from "./io.ts";
import type { Plugin, PluginModule } from "./plugin.ts";
import { BUILTIN_PLUGINS } from "./plugins/registry.ts";

export async function loadPlugin(runtime: Runtime, word: string): Promise<Plugin> {
  let plugin: Plugin;
  if (isShortPluginName(word)) {
    const factory = Object.hasOwn(BUILTIN_PLUGINS, word) ? BUILTIN_PLUGINS[word] : undefined;
    if (!factory) {
      throw new ConfigError(
        `cannot open plugin "${word}": no built-in plugin of that name ` +
          `(built-in: ${Object.keys(BUILTIN_PLUGINS).join(", ")}; give a path to load a module)`,
      );
    }
    plugin = factory(runtime.host);
  } else {
    let module: PluginModule;
    try {
      module = (await runtime.importModule(word)) as PluginModule;
    } catch (error) {
      throw new ConfigError(`cannot open plugin "${word}": ${(error as Error).message}`);
    }
    const exported = module.default ?? module.plugin;
    if (exported === undefined) {
      throw new ConfigError(`plugin "${word}" exports no plugin (expected "default" or "plugin")`);
    }
    plugin = typeof exported === "function" ? exported() : exported;
  }
  if (typeof plugin !== "object" || plugin === null || typeof plugin.open !== "function") {
    throw new ConfigError(`plugin "${word}" has no open() callback`);
  }
  if (typeof plugin.name !== "string" || !isPluginName(plugin.name)) {
    throw new ConfigError(
      `plugin "${word}" has an invalid name "${plugin.name}": use ASCII letters and digits`,
    );
  }
  return plugin;
}
