#!/usr/bin/env node
// nbd.js: starts nbdts on Node from V8's code cache. npm run build copies this file to nbd.js.
//
// Node 20 compiles an ES module from its source on every start (half a megabyte here: about
// 10 ms) and has no compile cache of its own before Node 22. So the program is a CommonJS
// bundle, build/node/nbdts-cli.cjs, compiled here with vm.Script and the code cache the build
// made of it (build/node/nbdts-cli.v8cache, taken at the end of a start-up, so it holds the
// functions a start runs as well). V8 checks the cache against its own version and flags and
// the source; where it refuses it (another Node), the source is compiled as usual.
//
// The bundle has no import() (Node 20 cannot serve one in code from a cache); it imports ES
// modules (a plugin, esbuild) with this module's, which it is given as `nbdtsImport`.

import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { readFileSync } = require("node:fs");
const { fileURLToPath } = require("node:url");
const { Script } = require("node:vm");

const dirname = fileURLToPath(new URL("./build/node/", import.meta.url));
const bundle = `${dirname}nbdts-cli.cjs`;
let cachedData;
try {
  cachedData = readFileSync(`${dirname}nbdts-cli.v8cache`);
} catch {
  // No cache: compiled from source.
}
const source = "(function (exports, require, module, __filename, __dirname, nbdtsImport) {" +
  readFileSync(bundle, "utf8") + "\n})";
const script = new Script(source, { filename: bundle, cachedData });
const module = { exports: {} };
script.runInThisContext()(
  module.exports,
  createRequire(bundle),
  module,
  bundle,
  dirname,
  (specifier) => import(specifier),
);
