/**
 * The extentlist filter (man nbdkit-extentlist-filter): block status from a file instead of
 * the plugin, `extentlist=FILE` (required), read once before the server listens. Whatever the
 * plugin can tell, every connection is offered block status, answered from the list; reads and
 * writes pass through, and writes do not change the list (so it is for read-only use, -r).
 */

import { ConfigError, messageOf } from "../../api/errors.ts";
import type { Filter } from "../../api/filter.ts";
import { toOffset } from "../../api/parse.ts";
import type { ExtentSink, Offset } from "../../api/plugin.ts";
import { VERSION } from "../../api/version.ts";
import type { PluginHost } from "../../io.ts";
import { extentAt, type ListedExtent, parseExtentList } from "./extent-list-file.ts";

export function createExtentlistFilter(host?: PluginHost): Filter {
  let path: string | undefined;
  let listed: readonly ListedExtent[] = [];
  return {
    name: "extentlist",
    longname: "nbdts extentlist filter",
    version: VERSION,

    config(next, key, value) {
      if (key !== "extentlist") return next(key, value);
      if (path !== undefined) throw new ConfigError("extentlist cannot appear twice");
      path = value;
    },

    configComplete(next) {
      if (path === undefined) {
        throw new ConfigError("you must supply the extentlist parameter on the command line");
      }
      return next();
    },

    async getReady() {
      if (host === undefined) {
        throw new ConfigError(`cannot read ${path}: this runtime gives no files`);
      }
      let text: string;
      try {
        text = new TextDecoder().decode(await host.readFile(path!, 0, undefined));
      } catch (error) {
        throw new ConfigError(`open: ${path}: ${messageOf(error)}`);
      }
      listed = parseExtentList(path!, text);
    },

    async open(next, readonly, exportName) {
      await next(readonly, exportName); // the rest passes through
      return {
        canExtents: () => true,
        extents: (count, offset, _flags, sink) => listedExtents(listed, count, offset, sink),
      };
    },
  };
}

/** Adds the listed extents that cover [offset, offset+count) to `sink`. */
function listedExtents(
  listed: readonly ListedExtent[],
  count: number,
  offset: Offset,
  sink: ExtentSink,
): void {
  const end = BigInt(offset) + BigInt(count);
  let at = BigInt(offset);
  for (let i = extentAt(listed, at); at < end && i < listed.length; i++) {
    const extent = listed[i];
    sink.add(toOffset(at), toOffset(extent.end - at), extent.type);
    at = extent.end;
  }
}
