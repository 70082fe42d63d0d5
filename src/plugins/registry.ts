/** The built-in plugins by name, each a factory giving a fresh plugin. */

import type { Plugin } from "../plugin.ts";
import { createDataPlugin } from "./data.ts";
import { createExample1Plugin } from "./example1.ts";
import { createExample2Plugin } from "./example2.ts";
import { createExample3Plugin } from "./example3.ts";
import { createExample4Plugin } from "./example4.ts";
import { createFullPlugin } from "./full.ts";
import { createMemoryPlugin } from "./memory.ts";
import { createNullPlugin } from "./null.ts";
import { createPatternPlugin } from "./pattern.ts";
import { createRandomPlugin } from "./random.ts";
import { createSparseRandomPlugin } from "./sparse-random.ts";
import { createZeroPlugin } from "./zero.ts";

export const BUILTIN_PLUGINS: Readonly<Record<string, () => Plugin>> = {
  data: () => createDataPlugin(), // no file, shell or environment hooks yet: see data/hooks.ts
  example1: createExample1Plugin,
  example2: () => createExample2Plugin(), // no file access to give it yet: see example2.ts
  example3: createExample3Plugin,
  example4: createExample4Plugin,
  full: createFullPlugin,
  memory: createMemoryPlugin,
  null: createNullPlugin,
  pattern: createPatternPlugin,
  random: createRandomPlugin,
  "sparse-random": createSparseRandomPlugin,
  zero: createZeroPlugin,
};
