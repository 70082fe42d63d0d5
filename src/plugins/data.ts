/**
 * The data plugin (man nbdkit-data-plugin): a disk whose contents come from the command line,
 * as a data expression (data=, the magic key), base64= or raw=, optionally cut or padded to
 * size=. The expression is parsed, optimized and evaluated (src/plugins/data/) into a sparse
 * layout stored in an allocator, like the memory plugin's; clients may write, and the writes
 * are lost at exit. Files, scripts and environment variables come only through DataHooks.
 */

import { createAllocator } from "../allocators/create.ts";
import type { Allocator } from "../allocators/allocator.ts";
import { parseSize, toOffset } from "../api/parse.ts";
import { debug } from "../api/debug.ts";
import { ConfigError } from "../api/errors.ts";
import { CACHE_MODE, FUA_MODE, type Handle, type Plugin, THREAD_MODEL } from "../api/plugin.ts";
import { VERSION } from "../api/version.ts";
import { astDebugLines } from "./data/ast-lines.ts";
import { decodeBase64 } from "./data/base64.ts";
import { evaluate } from "./data/evaluate.ts";
import { type DataHooks, type Sources, toSources } from "./data/hooks.ts";
import type { Layout } from "./data/layout.ts";
import { MAX_DISK_SIZE } from "./data/limits.ts";
import { optimize } from "./data/optimize.ts";
import { parseData } from "./data/parser.ts";
import { storeLayout } from "./data/store.ts";

export type { CommandResult, DataHooks } from "./data/hooks.ts";

/** Which of the three ways of giving the data was used. */
type Source = { kind: "data" | "base64" | "raw"; value: string };

export function createDataPlugin(hooks: DataHooks = {}): Plugin {
  const sources = toSources(hooks);
  let source: Source | undefined;
  let size: bigint | undefined;
  let allocatorSpec = "sparse";
  /** Every other key=value, for $VAR; the first of a repeated key wins, as in nbdkit. */
  const variables = new Map<string, string>();
  let store: Allocator | undefined;
  let diskSize = 0n;
  /** nbdkit's data_debug_AST: -D data.AST=1 prints the optimized expression (with -v). */
  const debugFlags = { AST: 0 };

  return {
    name: "data",
    version: VERSION,
    description: "A disk whose data is given on the command line",
    configHelp: "data|raw|base64=...     Specify disk data on the command line\n" +
      "size=<SIZE>             Size of the backing disk\n" +
      "allocator=sparse|malloc How to store the disk (default: sparse)",
    magicConfigKey: "data",
    debugFlags,

    config(key, value) {
      if (key === "size") size = parseSize(value);
      else if (key === "allocator") allocatorSpec = value;
      else if (key === "data" || key === "base64" || key === "raw") {
        if (source) {
          throw new ConfigError("raw|base64|data parameter must be specified exactly once");
        }
        source = { kind: key, value };
      } else if (!variables.has(key)) variables.set(key, value);
    },

    configComplete() {
      if (!source) throw new ConfigError("raw|base64|data parameter was not specified");
      if (source.kind !== "data" && variables.size > 0) {
        throw new ConfigError("extra parameters passed and not using data='...'");
      }
    },

    async getReady() {
      if (!source) throw new Error("data: getReady() before configComplete()");
      const layout = await layoutOf(source, variables, sources, debugFlags.AST !== 0);
      diskSize = size ?? layout.size;
      if (diskSize > MAX_DISK_SIZE) {
        throw new ConfigError(`the data is ${diskSize} bytes, larger than 2^63-1: use size=`);
      }
      const allocator = createAllocator(allocatorSpec, diskSize);
      storeLayout(layout, allocator, diskSize);
      store = allocator;
    },

    unload() {
      store = undefined; // lets the runtime reclaim the memory
    },

    dumpPlugin: () => ["data_base64=yes", "mlock=no", "zstd=no"],

    threadModel: () => THREAD_MODEL.PARALLEL,

    // Before getReady (only --dump-plugin opens one then, to list the methods) the handle has
    // no disk behind it: it is closed again without a call.
    open(): Handle {
      const disk = store!;
      const sizeOffset = toOffset(diskSize);
      return {
        getSize: () => sizeOffset,
        readAt: (buf, offset) => disk.read(buf, offset),
        writeAt: (buf, offset) => disk.write(buf, offset), // FUA: nothing to flush
        zero: (count, offset) => disk.zero(count, offset),
        trim: (count, offset) => disk.zero(count, offset),
        flush() {},
        extents: (count, offset, _flags, sink) => disk.extents(count, offset, sink),
        canMultiConn: () => true,
        canFua: () => FUA_MODE.NATIVE,
        canCache: () => CACHE_MODE.NATIVE, // everything is in memory: cache is a no-op
        canFastZero: () => true,
      };
    },
  };
}

/** The layout the data describes: raw text as UTF-8, base64 decoded, or the expression. */
function layoutOf(
  source: Source,
  variables: ReadonlyMap<string, string>,
  sources: Sources,
  showTree: boolean,
): Promise<Layout> | Layout {
  if (source.kind !== "data") {
    const bytes = source.kind === "raw"
      ? new TextEncoder().encode(source.value)
      : decodeBase64(source.value);
    const length = BigInt(bytes.length);
    const runs = length === 0n ? [] : [{ at: 0n, length, pattern: bytes, phase: 0 }];
    return { size: length, runs, steps: [{ write: true, at: 0n, length }] };
  }
  const tree = parseData(source.value, {
    lookupVariable: (name) => variables.get(name) ?? sources.getEnv(name),
  });
  const optimized = optimize(tree);
  if (showTree) astDebugLines(optimized).forEach((line) => debug(line));
  return evaluate(optimized, sources);
}
