/**
 * Finds the plugin or filter a command-line word names: a built-in by its short name
 * ("memory", "ip"), or a module by path ("./my-filter.ts") exporting the object or a factory
 * of it as `default` or as `plugin`/`filter`. It checks only that something was exported:
 * load-plugin.ts and load-filter.ts check what they need of it.
 */

import { isShortPluginName, pluginNameMistake } from "./config-key.ts";
import { ConfigError, messageOf } from "../api/errors.ts";
import type { PluginHost, Runtime } from "../io.ts";
import { loadHint } from "./load-hints.ts";

export type LayerKind = "plugin" | "filter";

/**
 * The built-in or module-exported object `word` names, or a ConfigError saying why not. A
 * built-in is a loader: its module is imported only now, when it is named; it gets `host` (the
 * runtime's, unless the caller narrows it).
 */
export async function loadLayerObject<T>(
  runtime: Runtime,
  word: string,
  kind: LayerKind,
  builtins: Readonly<Record<string, () => Promise<(host?: PluginHost) => T>>>,
  host: PluginHost | undefined = runtime.host,
): Promise<T> {
  if (isShortPluginName(word)) {
    const load = Object.hasOwn(builtins, word) ? builtins[word] : undefined;
    if (!load) {
      throw new ConfigError(
        `cannot open ${kind} "${word}": no built-in ${kind} of that name ` +
          `(built-in: ${Object.keys(builtins).join(", ")}; give a path to load a module)`,
      );
    }
    return (await load())(hostOf(runtime, host));
  }
  let module: Record<string, unknown>;
  try {
    module = (await runtime.importModule(word)) as Record<string, unknown>;
  } catch (error) {
    const hint = loadHint(word, error);
    throw new ConfigError(`cannot open ${kind} "${word}": ${messageOf(error)}${hint}`);
  }
  const exported = module.default ?? module[kind];
  if (exported === undefined) {
    throw new ConfigError(`${kind} "${word}" exports no ${kind} (expected "default" or "${kind}")`);
  }
  if (typeof exported !== "function") return exported as T;
  try {
    return exported() as T;
  } catch (error) {
    throw new ConfigError(`cannot open ${kind} "${word}": its factory failed: ${messageOf(error)}`);
  }
}

/**
 * Refuses a loaded object that is not an object or whose name nbdkit would refuse, with
 * nbdkit's message: "./my.ts: plugin.name ('my_disk') field must contain only ASCII
 * alphanumeric or dash characters".
 */
export function checkLayerName(object: unknown, word: string, kind: LayerKind): void {
  if (typeof object !== "object" || object === null) {
    throw new ConfigError(`${kind} "${word}" is not an object`);
  }
  const name = (object as { name?: unknown }).name;
  if (name === undefined) throw new ConfigError(`${word}: ${kind} must have a .name field`);
  const mistake = pluginNameMistake(name);
  if (mistake !== undefined) throw new ConfigError(`${word}: ${kind}.name ${mistake}`);
}

/**
 * The PluginHost for a built-in (the runtime's, or as the caller narrowed it), with a Unix listener on the runtime's own listen
 * added (the pause filter's control socket): undefined where the runtime has no host.
 */
function hostOf(runtime: Runtime, host: PluginHost | undefined): PluginHost | undefined {
  if (host === undefined) return undefined;
  return {
    ...host,
    async listenUnix(path, accept) {
      if (runtime.isDirectory?.(path) === false) await runtime.removePath(path);
      const listener = await runtime.listen({ kind: "unix", path }, accept);
      return {
        ...listener,
        async close() {
          await listener.close();
          await runtime.removePath(path);
        },
      };
    },
  };
}
