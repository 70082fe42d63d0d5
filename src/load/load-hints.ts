/**
 * What to do about the commonest reasons a plugin module does not load, added to the runtime's
 * message: nbdts itself not installed where the plugin is ("Could not resolve", "Cannot find
 * package", "not a dependency", as each runtime says it), or a .js module of the wrong kind for
 * its package.json: an ES module (import, export) where "type" makes .js files CommonJS — npm
 * init's default, which Node follows — or CommonJS (require, module.exports) where "type" is
 * "module", which Deno reports only as "require is not defined" (Node's own message for that
 * case already says what to do).
 */

const NBDTS_MISSING =
  /Could not resolve "nbdts[/"]|Cannot find (package|module) 'nbdts['/]|Import "nbdts[/"].* not a dependency/;

/** `word`'s file name with another extension: "./esm.js" → "esm.mjs". */
function renamed(word: string, extension: string): string {
  const name = word.slice(word.lastIndexOf("/") + 1);
  const dot = name.lastIndexOf(".");
  return `${dot > 0 ? name.slice(0, dot) : name}.${extension}`;
}

/** What to do about `error`, thrown loading the module `word`, or "" when it is no such case. */
export function loadHint(word: string, error: unknown): string {
  const message = error instanceof Error ? error.message : "";
  if (NBDTS_MISSING.test(message)) {
    return "\n  nbdts must be installed where the plugin is: npm install nbdts (its tarball or a " +
      "checkout) in the plugin's folder";
  }
  if (
    error instanceof SyntaxError &&
    /^(Cannot use import statement outside a module|Unexpected token 'export')$/.test(message)
  ) {
    return `: ${word} is an ES module (it uses import or export) but is loaded as CommonJS ` +
      `here: name it ${renamed(word, "mjs")}, or set "type": "module" in the package.json ` +
      `beside it (npm pkg set type=module)`;
  }
  if (
    error instanceof ReferenceError && /^(require|module|exports) is not defined$/.test(message)
  ) {
    return `: ${word} is CommonJS (it uses require or module.exports) but is loaded as an ES ` +
      `module here: name it ${renamed(word, "cjs")}, or set "type": "commonjs" in the ` +
      `package.json beside it`;
  }
  return "";
}
