// Build time only (scripts/build-bundle.mjs preloads it into one start-up of nbd.js): writes the
// V8 code cache of the command's bundle as the process exits, so that it holds the code the
// start-up compiled as well as the bundle's top level.
const { writeFileSync } = require("node:fs");
const vm = require("node:vm");

const bundle = process.env.NBDTS_CODE_CACHE_OF;
const cache = process.env.NBDTS_CODE_CACHE_TO;
const Script = vm.Script;

vm.Script = class extends Script {
  constructor(code, options) {
    super(code, options);
    if (options?.filename !== bundle) return;
    process.on("exit", () => writeFileSync(cache, this.createCachedData()));
  }
};
