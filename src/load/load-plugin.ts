/**
 * Finds the plugin the command line names: a built-in by its short name ("memory"), or a module
 * by path ("./my-plugin.ts") exporting a plugin or a factory as `default` or `plugin`. Checks
 * what nbdkit checks when it loads one (a valid name, an open() callback) and warns of mistaken
 * member names (check-members.ts): the plugin's now, its handle's at the first open.
 */

import { ConfigError } from "../api/errors.ts";
import type { Handle, Plugin } from "../api/plugin.ts";
import type { PluginHost, Runtime } from "../io.ts";
import { memberWarnings } from "./check-members.ts";
import { checkLayerName, loadLayerObject } from "./load-module.ts";
import { BUILTIN_PLUGINS } from "../plugins/registry.ts";

/** Where warnings go: one line each, without the program's name. */
export type Warn = (message: string) => void;

/** `host` is what built-in plugins get of the runtime: its own, unless the caller takes from it. */
export async function loadPlugin(
  runtime: Runtime,
  word: string,
  warn: Warn = () => {},
  host: PluginHost | undefined = runtime.host,
): Promise<Plugin> {
  const plugin = await loadLayerObject(runtime, word, "plugin", BUILTIN_PLUGINS, host);
  if (typeof plugin === "object" && plugin !== null) {
    for (const warning of memberWarnings("plugin", plugin)) warn(`${word}: ${warning}`);
  }
  if (typeof plugin !== "object" || plugin === null || typeof plugin.open !== "function") {
    throw new ConfigError(`plugin "${word}" has no open() callback`);
  }
  checkLayerName(plugin, word, "plugin");
  checkFirstHandle(plugin, (warning) => warn(`${word}: ${warning}`));
  return plugin;
}

/**
 * Makes the plugin's open() check the first handle it gives for mistaken member names. A plugin
 * whose open cannot be replaced (a frozen object) goes unchecked.
 */
function checkFirstHandle(plugin: Plugin, warn: Warn): void {
  const open = plugin.open;
  let checked = false;
  const checking = async function (this: Plugin, ...args: Parameters<Plugin["open"]>) {
    const handle: Handle = await open.apply(this, args);
    if (!checked && typeof handle === "object" && handle !== null) {
      checked = true;
      for (const warning of memberWarnings("handle", handle)) warn(warning);
    }
    return handle;
  };
  try {
    plugin.open = checking;
  } catch {
    // frozen: its handles go unchecked
  }
}
