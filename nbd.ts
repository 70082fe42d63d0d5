/**
 * The nbdts command: picks the adapter for the runtime it runs on, then hands over to main().
 * This is the one place (with src/runtime/) that asks which runtime this is.
 */

import { main } from "./src/main.ts";
import { createNodeRuntime } from "./src/runtime/node.ts";

const runtime = createNodeRuntime();
main(runtime).then(
  (status) => runtime.exit(status),
  (error) => {
    runtime.stderr(`nbdts: ${error instanceof Error ? error.stack : String(error)}\n`);
    runtime.exit(1);
  },
);
