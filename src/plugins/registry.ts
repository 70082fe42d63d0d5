/**
 * The built-in plugins by name, each a loader of its factory: a plugin's module is imported only
 * when the command line names it, so a server evaluates the one plugin it serves. Plugins that
 * read files or run commands get them from the runtime's PluginHost; without one they refuse to.
 */

import type { PluginHost } from "../io.ts";
import type { Plugin } from "../api/plugin.ts";

/** Imports a plugin's module and answers the factory that makes a fresh plugin. */
export type PluginLoader = () => Promise<(host?: PluginHost) => Plugin>;

export const BUILTIN_PLUGINS: Readonly<Record<string, PluginLoader>> = {
  curl: async () => (await import("./curl.ts")).createCurlPlugin,
  data: async () => (await import("./data.ts")).createDataPlugin,
  eval: async () => (await import("./eval.ts")).createEvalPlugin,
  example1: async () => (await import("./example1.ts")).createExample1Plugin,
  example2: async () => (await import("./example2.ts")).createExample2Plugin,
  example3: async () => (await import("./example3.ts")).createExample3Plugin,
  example4: async () => (await import("./example4.ts")).createExample4Plugin,
  file: async () => (await import("./file.ts")).createFilePlugin,
  full: async () => (await import("./full.ts")).createFullPlugin,
  info: async () => (await import("./info.ts")).createInfoPlugin,
  memory: async () => (await import("./memory.ts")).createMemoryPlugin,
  nbd: async () => (await import("./nbd.ts")).createNbdPlugin,
  S3: async () => (await import("./s3.ts")).createS3Plugin,
  s3: async () => (await import("./s3.ts")).createS3Plugin,
  null: async () => (await import("./null.ts")).createNullPlugin,
  ondemand: async () => (await import("./ondemand.ts")).createOndemandPlugin,
  ones: async () => (await import("./ones.ts")).createOnesPlugin,
  pattern: async () => (await import("./pattern.ts")).createPatternPlugin,
  random: async () => (await import("./random.ts")).createRandomPlugin,
  sh: async () => (await import("./sh.ts")).createShPlugin,
  "sparse-random": async () => (await import("./sparse-random.ts")).createSparseRandomPlugin,
  split: async () => (await import("./split.ts")).createSplitPlugin,
  tmpdisk: async () => (await import("./tmpdisk.ts")).createTmpdiskPlugin,
  zero: async () => (await import("./zero.ts")).createZeroPlugin,
};
