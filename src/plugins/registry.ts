/** The built-in plugins by name, each a factory giving a fresh plugin. */

import type { Plugin } from "../plugin.ts";
import { createMemoryPlugin } from "./memory.ts";
import { createNullPlugin } from "./null.ts";
import { createPatternPlugin } from "./pattern.ts";

export const BUILTIN_PLUGINS: Readonly<Record<string, () => Plugin>> = {
  memory: createMemoryPlugin,
  null: createNullPlugin,
  pattern: createPatternPlugin,
};
