// Bundles nbd.ts into nbd.js for Node 20, which cannot run TypeScript itself, and src/edge.ts
// into build/nbdts-edge.js for edge runtimes (platform "neutral": no Node built-ins at all).
// ws is CommonJS and requires Node built-ins at run time, so the Node bundle gets a `require`.
// nbd.js is a command (package.json's `nbdts` and `nbdkit`, or a link of either name): it
// starts with a `#!` line naming node, and is made executable.
import { chmodSync } from "node:fs";
import { build } from "esbuild";

await build({
  entryPoints: ["nbd.ts"],
  outfile: "nbd.js",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  // esbuild loads .ts plugins at run time; ws's native helpers are optional.
  external: ["esbuild", "bufferutil", "utf-8-validate"],
  banner: {
    js: "#!/usr/bin/env node\n" +
      "import { createRequire as nbdtsCreateRequire } from 'node:module';\n" +
      "const require = nbdtsCreateRequire(import.meta.url);",
  },
  logLevel: "warning",
});
chmodSync("nbd.js", 0o755);

// The library for Node consumers of the npm package (Deno and Bun import src/mod.ts itself).
await build({
  entryPoints: ["src/mod.ts"],
  outfile: "build/nbdts.js",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  external: ["esbuild", "bufferutil", "utf-8-validate", "ws"],
  // Bundled CommonJS dependencies (xz-decompress) require Node built-ins: an ES module has no
  // `require` of its own, and without one the library fails as it loads.
  banner: {
    js: "import { createRequire as nbdtsCreateRequire } from 'node:module';\n" +
      "const require = nbdtsCreateRequire(import.meta.url);",
  },
  logLevel: "warning",
});

await build({
  entryPoints: ["src/edge.ts"],
  outfile: "build/nbdts-edge.js",
  bundle: true,
  platform: "neutral",
  format: "esm",
  target: "es2022",
  logLevel: "warning",
});
