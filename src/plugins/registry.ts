/**
 * The built-in plugins by name, each a factory giving a fresh plugin. Plugins that read files
 * or run commands get them from the runtime's PluginHost; without one they refuse to.
 */

import type { PluginHost } from "../io.ts";
import type { Plugin } from "../api/plugin.ts";
import { createDataPlugin } from "./data.ts";
import { createEvalPlugin } from "./eval.ts";
import { createExample1Plugin } from "./example1.ts";
import { createExample2Plugin } from "./example2.ts";
import { createExample3Plugin } from "./example3.ts";
import { createExample4Plugin } from "./example4.ts";
import { createFilePlugin } from "./file.ts";
import { createFullPlugin } from "./full.ts";
import { createInfoPlugin } from "./info.ts";
import { createMemoryPlugin } from "./memory.ts";
import { createNullPlugin } from "./null.ts";
import { createOndemandPlugin } from "./ondemand.ts";
import { createOnesPlugin } from "./ones.ts";
import { createPatternPlugin } from "./pattern.ts";
import { createRandomPlugin } from "./random.ts";
import { createShPlugin } from "./sh.ts";
import { createSparseRandomPlugin } from "./sparse-random.ts";
import { createSplitPlugin } from "./split.ts";
import { createTmpdiskPlugin } from "./tmpdisk.ts";
import { createZeroPlugin } from "./zero.ts";

export const BUILTIN_PLUGINS: Readonly<Record<string, (host?: PluginHost) => Plugin>> = {
  data: (host) => createDataPlugin(host),
  eval: (host) => createEvalPlugin(host),
  example1: createExample1Plugin,
  example2: (host) => createExample2Plugin(host),
  example3: createExample3Plugin,
  example4: createExample4Plugin,
  file: (host) => createFilePlugin(host),
  full: createFullPlugin,
  info: createInfoPlugin,
  memory: createMemoryPlugin,
  null: createNullPlugin,
  ondemand: (host) => createOndemandPlugin(host),
  ones: createOnesPlugin,
  pattern: createPatternPlugin,
  random: createRandomPlugin,
  sh: (host) => createShPlugin(host),
  "sparse-random": createSparseRandomPlugin,
  split: (host) => createSplitPlugin(host),
  tmpdisk: (host) => createTmpdiskPlugin(host),
  zero: createZeroPlugin,
};
