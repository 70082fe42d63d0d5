// Bundles nbd.ts into the command for Node 20, which cannot run TypeScript itself, src/mod.ts
// into build/nbdts.js (the library for Node), and src/edge.ts into build/nbdts-edge.js for edge
// runtimes (platform "neutral": no Node built-ins at all).
//
// Start-up: the command is one CommonJS bundle, build/node/nbdts-cli.cjs, which nbd.js (a copy
// of scripts/node-entry.mjs) compiles with V8's code cache: Node 20 compiles an ES module from
// source on every start and caches nothing. The cache, build/node/nbdts-cli.v8cache, is taken
// here at the end of a start-up of `-U - memory 1M --run true`, so it holds what a start runs.
// The bundle is one file (esbuild's code splitting makes some thirty small chunks of it, and
// Node loads a module more slowly than it reads unused code); what is imported dynamically stays
// in it unevaluated, and a module's Node built-ins are required when it is first evaluated.
// The modules of LAZY would bring node:tls and node:crypto (STARTTLS), node:http and ws
// (--websocket): each is a bundle of its own in build/node/, required only when a server uses it.
// Node 20 cannot serve import() in code from a code cache, so the command has none: esbuild
// turns each into a require (Node built-ins and LAZY bundles are CommonJS), and an ES module
// (a plugin, esbuild) is imported by nbd.js for it (src/runtime/esm-import.ts).
//
// nbd.js is a command (package.json's `nbdts` and `nbdkit`, or a link of either name): it starts
// with a `#!` line naming node, and is made executable.
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, readFileSync, rmSync } from "node:fs";
import { basename } from "node:path";
import { build } from "esbuild";

// esbuild loads .ts plugins at run time; ws's native helpers are optional.
const EXTERNAL = ["esbuild", "bufferutil", "utf-8-validate"];

/** The modules the command requires from build/node/ (as build/node/NAME.cjs) when it needs them. */
const LAZY = ["src/runtime/starttls.ts", "src/runtime/node-websocket.ts"];
const LAZY_DIR = "build/node";
/** The command's bundle, its code cache beside it (see scripts/node-entry.mjs). */
const CLI = `${LAZY_DIR}/nbdts-cli.cjs`;
const CODE_CACHE = CLI.replace(/\.cjs$/, ".v8cache");

/**
 * What both the command and a LAZY bundle hold, each its own copy: a module here must keep no
 * state and define no class that one copy would check with instanceof against the other's
 * objects. The build fails when another module is shared, so that it is looked at first.
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

/** Resolves the command's imports of LAZY modules to their bundles, beside it, left out. */
const lazyModules = {
  name: "lazy-modules",
  setup(bundler) {
    const names = new Set(LAZY.map((file) => basename(file)));
    bundler.onResolve({ filter: /\.ts$/ }, ({ path, kind }) => {
      const name = basename(path);
      if (kind !== "dynamic-import" || !names.has(name)) return undefined;
      return { path: `./${name.replace(/\.ts$/, ".cjs")}`, external: true };
    });
  },
};

/** importEsm() calls the import() nbd.js passes the bundle as `nbdtsImport`. */
const entryImport = {
  name: "entry-import",
  setup(bundler) {
    bundler.onLoad({ filter: /\/src\/runtime\/esm-import\.ts$/ }, () => ({
      contents: "export const importEsm = (specifier) => nbdtsImport(specifier);",
      loader: "js",
    }));
  },
};

/** The source files (node_modules left out) that went into the one output of a build. */
function inputsOf(result) {
  const [output] = Object.values(result.metafile.outputs);
  return Object.entries(output.inputs)
    .filter(([path, input]) => input.bytesInOutput > 0 && !path.includes("node_modules/"))
    .map(([path]) => path);
}

/** A CommonJS bundle for Node 20 in which every import() became a require(). */
function buildCommonJs(options) {
  return build({
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    supported: { "dynamic-import": false },
    external: EXTERNAL,
    metafile: true,
    logLevel: "warning",
    ...options,
  });
}

rmSync(LAZY_DIR, { recursive: true, force: true });
const main = await buildCommonJs({
  entryPoints: ["nbd.ts"],
  outfile: CLI,
  plugins: [lazyModules, entryImport],
});
if (/(?<![\w$.])import\(/.test(readFileSync(CLI, "utf8"))) {
  throw new Error(`${CLI} holds an import(), which fails when it runs from its code cache`);
}
copyFileSync("scripts/node-entry.mjs", "nbd.js");
chmodSync("nbd.js", 0o755);

const inMain = new Set(inputsOf(main));
for (const file of LAZY) {
  const lazy = await buildCommonJs({
    entryPoints: [file],
    outfile: `${LAZY_DIR}/${basename(file).replace(/\.ts$/, ".cjs")}`,
  });
  const unchecked = inputsOf(lazy).filter((path) =>
    path !== file && inMain.has(path) && !SHARED_STATELESS.has(path)
  );
  if (unchecked.length > 0) {
    throw new Error(
      `${file} and the command's bundle would each hold a copy of ${unchecked.join(", ")}: ` +
        "check that they keep no state, then add them to SHARED_STATELESS",
    );
  }
}

// The code cache, from a start-up as a test suite runs hundreds: V8 takes it only under the
// flags it was made with, so NODE_OPTIONS is left out.
const { NODE_OPTIONS: _, ...env } = process.env;
const started = spawnSync(process.execPath, [
  "--require",
  "./scripts/code-cache-writer.cjs",
  "nbd.js",
  ...["-U", "-", "memory", "1M", "--run", "true"],
], {
  env: {
    ...env,
    NBDTS_CODE_CACHE_OF: `${process.cwd()}/${CLI}`,
    NBDTS_CODE_CACHE_TO: CODE_CACHE,
  },
  stdio: ["ignore", "inherit", "inherit"],
});
if (started.status !== 0 || !existsSync(CODE_CACHE)) {
  throw new Error(`cannot make ${CODE_CACHE}: a start-up of nbd.js ended with ${started.status}`);
}

/** Gives an ES module bundle a `require` for the CommonJS code in it (ws, xz-decompress). */
const REQUIRE = "import { createRequire as nbdtsCreateRequire } from 'node:module';\n" +
  "const require = nbdtsCreateRequire(import.meta.url);";

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
