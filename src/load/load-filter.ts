/**
 * Finds the filters the command line names (`--filter=ip`, `--filter=./my-filter.ts`): a
 * built-in by its short name, or a module by path exporting a filter or a factory as `default`
 * or `filter`. Checks its name, as nbdkit checks a filter's when it loads one.
 */

import type { Filter } from "../api/filter.ts";
import type { PluginHost, Runtime } from "../io.ts";
import { checkLayerName, loadLayerObject } from "./load-module.ts";
import { BUILTIN_FILTERS } from "../filters/registry.ts";

export async function loadFilter(
  runtime: Runtime,
  word: string,
  host: PluginHost | undefined = runtime.host,
): Promise<Filter> {
  const filter = await loadLayerObject(runtime, word, "filter", BUILTIN_FILTERS, host);
  checkLayerName(filter, word, "filter");
  return filter;
}

/**
 * The filters of `--filter=…` options, in command-line order (the outermost first); built-ins
 * get `host`, the runtime's unless the caller narrows it.
 */
export async function loadFilters(
  runtime: Runtime,
  words: readonly string[],
  host: PluginHost | undefined = runtime.host,
): Promise<Filter[]> {
  const filters: Filter[] = [];
  for (const word of words) filters.push(await loadFilter(runtime, word, host));
  return filters;
}
