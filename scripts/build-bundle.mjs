// Bundles nbd.ts into nbd.js for Node 20, which cannot run TypeScript itself, and src/edge.ts
// into build/nbdts-edge.js for edge runtimes (platform "neutral": no Node built-ins at all).
// ws is CommonJS and requires Node built-ins at run time, so the Node bundle gets a `require`.
// nbd.js is a command (package.json's `nbdts` and `nbdkit`, or a link of either name): it
// starts with a `#!` line naming node, and is made executable.
//
// Start-up: nbd.js is one file, so a run reads one module (esbuild's code splitting makes some
// thirty small chunks of it, and Node 20 loads a module more slowly than it parses unused code).
// What is imported dynamically stays in it unevaluated, except the modules of LAZY: their Node
// built-ins (node:tls and node:crypto for STARTTLS, node:http and ws for --websocket) would be
// imported when nbd.js starts, so each is a bundle of its own in build/node/, which nbd.js
// imports only when a server uses it.
import { chmodSync, rmSync } from "node:fs";
import { basename } from "node:path";
import { build } from "esbuild";

const REQUIRE = "import { createRequire as nbdtsCreateRequire } from 'node:module';\n" +
  "const require = nbdtsCreateRequire(import.meta.url);";
// esbuild loads .ts plugins at run time; ws's native helpers are optional.
const EXTERNAL = ["esbuild", "bufferutil", "utf-8-validate"];

/** The modules nbd.js imports from build/node/ (as build/node/NAME.js) when it needs them. */
const LAZY = ["src/runtime/starttls.ts", "src/runtime/node-websocket.ts"];
const LAZY_DIR = "build/node";

/**
 * What both nbd.js and a LAZY bundle hold, each its own copy: a module here must keep no state
 * and define no class that one copy would check with instanceof against the other's objects.
 * The build fails when another module is shared, so that it is looked at first.
 */
const SHARED_STATELESS = new Set([
  "src/api/errors.ts", // messageOf() only
  "src/api/ip-address.ts",
  "src/embed/websocket.ts",
  "src/protocol/limits.ts", // LIMITS only
  "src/runtime/node-listening.ts",
  "src/runtime/node-socket.ts",
  "src/runtime/peer.ts",
  "src/runtime/psk-ciphers.ts", // a constant
]);

/** Resolves nbd.js's dynamic imports of LAZY modules to their bundles, left as imports. */
const lazyModules = {
  name: "lazy-modules",
  setup(bundler) {
    const names = new Set(LAZY.map((file) => basename(file)));
    bundler.onResolve({ filter: /\.ts$/ }, ({ path, kind }) => {
      const name = basename(path);
      if (kind !== "dynamic-import" || !names.has(name)) return undefined;
      return { path: `./${LAZY_DIR}/${name.replace(/\.ts$/, ".js")}`, external: true };
    });
  },
};

/** The source files (node_modules left out) that went into the one output of a build. */
function inputsOf(result) {
  const [output] = Object.values(result.metafile.outputs);
  return Object.entries(output.inputs)
    .filter(([path, input]) => input.bytesInOutput > 0 && !path.includes("node_modules/"))
    .map(([path]) => path);
}

rmSync(LAZY_DIR, { recursive: true, force: true });
const main = await build({
  entryPoints: ["nbd.ts"],
  outfile: "nbd.js",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  external: EXTERNAL,
  plugins: [lazyModules],
  banner: { js: `#!/usr/bin/env node\n${REQUIRE}` },
  metafile: true,
  logLevel: "warning",
});
chmodSync("nbd.js", 0o755);

const inMain = new Set(inputsOf(main));
for (const file of LAZY) {
  const lazy = await build({
    entryPoints: [file],
    outdir: LAZY_DIR,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    external: EXTERNAL,
    banner: { js: REQUIRE },
    metafile: true,
    logLevel: "warning",
  });
  const unchecked = inputsOf(lazy).filter((path) =>
    path !== file && inMain.has(path) && !SHARED_STATELESS.has(path)
  );
  if (unchecked.length > 0) {
    throw new Error(
      `${file} and nbd.js would each hold a copy of ${unchecked.join(", ")}: ` +
        "check that they keep no state, then add them to SHARED_STATELESS",
    );
  }
}

// The library for Node consumers of the npm package (Deno and Bun import src/mod.ts itself).
await build({
  entryPoints: ["src/mod.ts"],
  outfile: "build/nbdts.js",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  external: [...EXTERNAL, "ws"],
  // Bundled CommonJS dependencies (xz-decompress) require Node built-ins: an ES module has no
  // `require` of its own, and without one the library fails as it loads.
  banner: { js: REQUIRE },
  logLevel: "warning",
});

// nbdts/client for Node: the client with node:net sockets and ws for nbd+ws URIs.
await build({
  entryPoints: ["src/runtime/client-sockets.ts"],
  outfile: "build/nbdts-client.js",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  external: [...EXTERNAL, "ws"],
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
