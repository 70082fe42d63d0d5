/**
 * Which command-line words are names: a plugin parameter's key (nbdkit's is_config_key in
 * server/main.c), a plugin's own name (server/backend.c, backend_load), and the test that
 * tells a built-in plugin's short name from a module path (server/options.h, is_short_name).
 */

const CONFIG_KEY = /^[A-Za-z][A-Za-z0-9._-]*$/;
const PLUGIN_NAME = /^[A-Za-z0-9][A-Za-z0-9-]*$/;

/**
 * True when `key` may be the key of a `key=value` parameter: an ASCII letter, then ASCII
 * letters, digits, '.', '_' or '-'. A word whose text before its first '=' fails this test is
 * a bare value for the plugin's magic config key (so `data '1 2 = 3'` is one data value).
 */
export function isConfigKey(key: string): boolean {
  return CONFIG_KEY.test(key);
}

/**
 * True when `name` is valid as a plugin's `name` field: it starts with an ASCII letter or
 * digit and goes on with ASCII letters, digits or dashes ("sparse-random", "9p" are fine).
 */
export function isPluginName(name: string): boolean {
  return PLUGIN_NAME.test(name);
}

/**
 * Why a plugin's or filter's `name` field is refused, in nbdkit's words after "KIND.name"
 * (server/backend.c, backend_load), or undefined when isPluginName accepts it.
 */
export function pluginNameMistake(name: unknown): string | undefined {
  if (typeof name !== "string") return "must be a string";
  if (name === "") return "field must not be empty";
  const quoted = `('${name}') field`;
  if (!/^[A-Za-z0-9]/.test(name)) {
    return `${quoted} must begin with an ASCII alphanumeric character`;
  }
  if (!isPluginName(name)) {
    return `${quoted} must contain only ASCII alphanumeric or dash characters`;
  }
  return undefined;
}

/**
 * True when the plugin word on the command line is a short name ("memory") looked up among
 * built-in plugins, false when it is a module path to load ("./my-plugin.ts", "/x/plugin").
 * nbdkit's rule: any '/' or '.' makes it a path.
 */
export function isShortPluginName(word: string): boolean {
  return !word.includes("/") && !word.includes(".");
}
