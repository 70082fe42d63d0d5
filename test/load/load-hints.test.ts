import { describe, expect, test } from "vitest";
import { loadHint } from "../../src/load/load-hints.ts";

describe("loadHint says what to do about a module that does not load", () => {
  test("nbdts not installed, as each runtime says it", () => {
    for (
      const message of [
        'tiny.ts:1:70: Could not resolve "nbdts"', // esbuild (Node, .ts)
        "Cannot find package 'nbdts' imported from /home/me/tiny.js", // Node and Bun
        'Import "nbdts" not a dependency and not in import map from "file:///home/me/tiny.ts"',
        "Cannot find module 'nbdts/edge' imported from /home/me/tiny.js",
      ]
    ) {
      expect(loadHint("./tiny.ts", new Error(message)), message).toMatch(
        /nbdts must be installed where the plugin is: npm install nbdts/,
      );
    }
    expect(loadHint("./tiny.ts", new Error("Cannot find package 'nbdtsx' imported"))).toBe("");
  });

  test("an ES module read as CommonJS: rename it .mjs, or set type module", () => {
    const error = new SyntaxError("Cannot use import statement outside a module");
    expect(loadHint("./dir/tiny.js", error)).toBe(
      ": ./dir/tiny.js is an ES module (it uses import or export) but is loaded as CommonJS " +
        'here: name it tiny.mjs, or set "type": "module" in the package.json beside it ' +
        "(npm pkg set type=module)",
    );
    expect(loadHint("./tiny.js", new SyntaxError("Unexpected token 'export'"))).toMatch(
      /tiny\.mjs/,
    );
  });

  test("CommonJS read as an ES module (Deno's words): rename it .cjs, or set type commonjs", () => {
    for (const name of ["require", "module", "exports"]) {
      expect(loadHint("./tiny.js", new ReferenceError(`${name} is not defined`))).toMatch(
        /: \.\/tiny\.js is CommonJS .* name it tiny\.cjs, or set "type": "commonjs"/,
      );
    }
  });

  test("anything else gets no hint", () => {
    expect(loadHint("./tiny.js", new SyntaxError("Unexpected token '}'"))).toBe("");
    expect(loadHint("./tiny.js", new ReferenceError("x is not defined"))).toBe("");
    expect(loadHint("./tiny.js", "a string")).toBe("");
  });
});
