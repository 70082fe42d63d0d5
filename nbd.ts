/**
 * The nbdts command: picks the adapter for the runtime it runs on, then hands over to main().
 * This is the one place (with src/runtime/) that asks which runtime this is. Each adapter is
 * imported dynamically, only on its own runtime, so no runtime evaluates another's adapter
 * (Deno reads them all while building its module graph; esbuild bundles them all for Node).
 */

import type { Runtime } from "./src/io.ts";
import { main } from "./src/main.ts";

/** Bun and Deno each define a global of their name; anything else is taken to be Node. */
async function createRuntime(): Promise<Runtime> {
  const globals = globalThis as { Bun?: unknown; Deno?: unknown };
  if (globals.Bun !== undefined) return (await import("./src/runtime/bun.ts")).createBunRuntime();
  if (globals.Deno !== undefined) {
    return (await import("./src/runtime/deno.ts")).createDenoRuntime();
  }
  return (await import("./src/runtime/node.ts")).createNodeRuntime();
}

// No top-level await: Node runs this as a CommonJS bundle (see scripts/node-entry.mjs).
void createRuntime().then((runtime) =>
  main(runtime).then(
    (status) => runtime.exit(status),
    (error) => {
      runtime.stderr(`nbdts: ${error instanceof Error ? error.stack : String(error)}\n`);
      runtime.exit(1);
    },
  )
);
