/**
 * Stacks filters in front of a plugin, nbdkit's server/filters.c as composition: a filter
 * together with the layer below it is itself a Plugin. So the server, the session and the
 * Backend never learn that filters exist — they serve one Plugin, the top of the stack — and a
 * connection through no filter pays nothing. Each callback runs in nbdkit's order: config,
 * configComplete, preconnect and open go outside in (a filter decides whether to call the layer
 * below); load, getReady, afterFork and a connection's prepare run the layer below first;
 * finalize, close and cleanup the filter first. Names, the magic config key and --dump-plugin's fields are the plugin's, as in nbdkit.
 */

import { applyParam, checkThreadModel, layerStep, pluginStep } from "./configure.ts";
import { listExports } from "./exports.ts";
import type { Filter } from "../api/filter.ts";
import { filterOpener, openStack } from "./filter-connection.ts";
import { type OpenLayer, pluginOpener } from "./layer.ts";
import { type Plugin, THREAD_MODEL, type ThreadModel } from "../api/plugin.ts";

/**
 * How each stack made here opens its layers without preparing them, so that a filter above
 * it can open the whole stack first and prepare it after (nbdkit's order).
 */
const OPENERS = new WeakMap<Plugin, OpenLayer>();

/**
 * The plugin as the server sees it behind `filters`, listed as on the command line: the first
 * is the outermost. With no filters it is the plugin itself.
 */
export function stackFilters(filters: readonly Filter[], plugin: Plugin): Plugin {
  let top = plugin;
  // getReady tells each filter the thread model of the whole stack, known only once it is built.
  const finalThreadModel = () => top.threadModel?.() ?? THREAD_MODEL.PARALLEL;
  for (const filter of [...filters].reverse()) top = wrap(filter, top, finalThreadModel);
  return top;
}

function wrap(
  filter: Filter,
  below: Plugin,
  finalThreadModel: () => ThreadModel | Promise<ThreadModel>,
): Plugin {
  const step = (callback: () => unknown) => layerStep(filter.name, callback);
  const openBelow = OPENERS.get(below) ?? pluginOpener(below);
  const opener = filter.open ? filterOpener(filter, openBelow) : openBelow;
  const top: Plugin = {
    name: below.name,
    longname: below.longname,
    version: below.version,
    description: below.description,
    configHelp: below.configHelp,
    magicConfigKey: below.magicConfigKey,

    async load() {
      await pluginStep(below, () => below.load?.());
      await step(() => filter.load?.());
    },
    async unload() {
      await below.unload?.();
      await filter.unload?.();
    },
    config(key, value) {
      const next = (nextKey: string, nextValue: string) => applyParam(below, nextKey, nextValue);
      if (!filter.config) return next(key, value);
      return step(() => filter.config!(next, key, value));
    },
    configComplete() {
      const next = () => pluginStep(below, () => below.configComplete?.());
      if (!filter.configComplete) return next();
      return step(() => filter.configComplete!(next));
    },
    async threadModel() {
      const theirs = checkThreadModel(below.name, await below.threadModel?.());
      const mine = checkThreadModel(filter.name, await filter.threadModel?.(theirs));
      return Math.min(mine, theirs) as ThreadModel; // the more serialized of the two
    },
    async getReady() {
      await pluginStep(below, () => below.getReady?.());
      if (filter.getReady) {
        const model = await finalThreadModel();
        await step(() => filter.getReady!(model));
      }
    },
    async afterFork(forked = false) {
      await pluginStep(below, () => below.afterFork?.(forked));
      await step(() => filter.afterFork?.(forked));
    },
    async cleanup() {
      await filter.cleanup?.();
      await below.cleanup?.();
    },
    dumpPlugin: below.dumpPlugin && (() => below.dumpPlugin!()),

    async preconnect(readonly, peer) {
      const next = async (nextReadonly: boolean) => {
        await below.preconnect?.(nextReadonly, peer);
      };
      await (filter.preconnect ? filter.preconnect(next, readonly, peer) : next(readonly));
    },
    listExports: filter.listExports
      ? (readonly, tls = false) =>
        filter.listExports!(
          (nextReadonly) => listExports(below, nextReadonly, tls),
          readonly,
          tls,
          async (ownReadonly) => top.defaultExport ? await top.defaultExport(ownReadonly, tls) : "",
        )
      : below.listExports && ((readonly, tls) => below.listExports!(readonly, tls)),
    defaultExport: filter.defaultExport
      ? (readonly, tls = false) =>
        filter.defaultExport!(
          async (nextReadonly) =>
            below.defaultExport ? await below.defaultExport(nextReadonly, tls) : "",
          readonly,
          tls,
        )
      : below.defaultExport && ((readonly, tls) => below.defaultExport!(readonly, tls)),
    open: filter.open
      ? (readonly, exportName, tls = false, peer) =>
        openStack(opener, readonly, exportName, tls, peer)
      : (readonly, exportName, tls, peer) => below.open(readonly, exportName, tls, peer),
  };
  OPENERS.set(top, opener);
  return top;
}
