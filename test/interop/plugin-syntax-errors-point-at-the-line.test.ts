/**
 * A plugin module that does not parse is refused at start-up with the file, line and column and
 * the offending line, on every runtime: Deno says so itself; Node's V8 gives no location for an
 * ES module (nbdts asks esbuild, which Node also uses to load .ts), and Bun's loader names only
 * how many errors there were (nbdts reads its messages). A .js module of the wrong kind for its
 * package.json gets the fix named where the runtime refuses it. nbdkit cannot load JavaScript modules, so it is not among the
 * servers here.
 */

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { runServer, scratchDir } from "../helpers/captive.ts";
import { servers } from "../helpers/servers.ts";

const ours = servers.filter((server) => server.name.startsWith("nbdts"));
if (ours.length === 0) test.skip("plugin syntax errors: no nbdts server is selected", () => {});

const BROKEN_LINE = "    return { getSize: () => 512 readAt() {} };";
const BROKEN = `{
  name: "broken",
  open() {
${BROKEN_LINE}
  },
}`;

let dir = "";
beforeAll(() => {
  dir = scratchDir();
  for (const [folder, type] of [["esm", "module"], ["cjs", "commonjs"]]) {
    mkdirSync(join(dir, folder));
    writeFileSync(join(dir, folder, "package.json"), JSON.stringify({ type }));
  }
  writeFileSync(join(dir, "esm", "broken.js"), `export default ${BROKEN};\n`);
  writeFileSync(join(dir, "esm", "broken.ts"), `const n: number = 1;\nexport default ${BROKEN};\n`);
  writeFileSync(join(dir, "cjs", "broken.js"), `module.exports = ${BROKEN};\n`);
  writeFileSync(join(dir, "esm", "helper.js"), `export const size = 512 +;\n`);
  writeFileSync(
    join(dir, "esm", "uses-helper.js"),
    'import { size } from "./helper.js";\nexport default { name: "x", open: () => size };\n',
  );
  writeFileSync(join(dir, "cjs", "esm.js"), 'export default { name: "x", open() {} };\n');
  writeFileSync(join(dir, "esm", "cjs.js"), 'module.exports = { name: "x", open() {} };\n');
});

/**
 * What each runtime does with a .js module of the wrong kind for its package.json: loads it
 * anyway (undefined), or fails naming the fix (Node words the second case itself).
 */
const WRONG_KIND: Record<string, Record<string, RegExp | undefined>> = {
  "nbdts-node": {
    "cjs/esm.js": /name it esm\.mjs, or set "type": "module"/,
    "esm/cjs.js": /\.cjs/,
  },
  "nbdts-deno": { "cjs/esm.js": undefined, "esm/cjs.js": /name it cjs\.cjs, or set "type"/ },
  "nbdts-bun": { "cjs/esm.js": undefined, "esm/cjs.js": undefined },
};

describe.each(ours)(
  "a plugin that does not parse is refused, naming the line ($name)",
  (server) => {
    test.each([
      ["esm/broken.js", 4],
      ["esm/broken.ts", 5],
      ["cjs/broken.js", 4],
    ])("%s: file, line, column and the line itself", async (plugin, line) => {
      const result = await runServer(server, [`./${plugin}`, "--dump-plugin"], { cwd: dir });
      expect(result.status).toBe(1);
      expect(result.stderr).toContain(`cannot open plugin "./${plugin}"`);
      expect(result.stderr).toMatch(new RegExp(`${plugin.replace(".", "\\.")}:${line}:33\\b`));
      expect(result.stderr).toContain(BROKEN_LINE.trim());
    });

    test("a syntax error in a module the plugin imports names that module", async () => {
      const result = await runServer(server, ["./esm/uses-helper.js", "--dump-plugin"], {
        cwd: dir,
      });
      expect(result.status).toBe(1);
      expect(result.stderr).toMatch(/helper\.js:1:2[56]\b/);
      expect(result.stderr).toContain("export const size = 512 +;");
    });

    test.each(["cjs/esm.js", "esm/cjs.js"])(
      "%s, of the wrong kind, loads or names the fix",
      async (plugin) => {
        const result = await runServer(server, [`./${plugin}`, "--dump-plugin"], { cwd: dir });
        const fix = WRONG_KIND[server.name]?.[plugin];
        if (fix === undefined) expect(result.status).toBe(0);
        else {
          expect(result.status).toBe(1);
          expect(result.stderr).toMatch(fix);
        }
      },
    );
  },
);
