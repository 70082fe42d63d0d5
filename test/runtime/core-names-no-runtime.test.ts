/**
 * The core (src/ outside src/runtime/) never names a runtime: no `node:` import, and no
 * `Deno`, `Bun`, `process` or `Buffer` in its code. tsconfig.core.json proves the same by
 * type-checking without any runtime's types; this test says which file and line broke it.
 * Comments and string contents are blanked first, so prose may still mention a runtime.
 */

import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, test } from "vitest";
import { REPO_ROOT } from "../helpers/servers.ts";
import { blankCommentsAndStrings } from "../helpers/source-text.ts";

const SRC = join(REPO_ROOT, "src");
const RUNTIME_DIR = join(SRC, "runtime");

/** Every .ts file under `dir`, adapters excluded. */
function coreFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return path === RUNTIME_DIR ? [] : coreFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

const RUNTIME_NAME = /\b(Deno|Bun|process|Buffer)\b/;
const NODE_IMPORT = /(?:\bfrom|\bimport|\brequire)\s*\(?\s*["'`]node:/;

/** "file:line: text" for each line of `path` that names a runtime. */
function offences(path: string): string[] {
  const source = readFileSync(path, "utf8");
  const code = blankCommentsAndStrings(source).split("\n");
  const imports = blankCommentsAndStrings(source, { keepStrings: true }).split("\n");
  const found: string[] = [];
  code.forEach((line, index) => {
    const name = RUNTIME_NAME.exec(line)?.[1];
    if (name) found.push(`${relative(REPO_ROOT, path)}:${index + 1}: names ${name}`);
    if (NODE_IMPORT.test(imports[index])) {
      found.push(`${relative(REPO_ROOT, path)}:${index + 1}: imports node:`);
    }
  });
  return found;
}

describe("the core names no runtime", () => {
  test("there are core files to check", () => {
    expect(coreFiles(SRC).length).toBeGreaterThan(10);
  });

  test("no core file imports node:* or names Deno, Bun, process or Buffer", () => {
    expect(coreFiles(SRC).flatMap(offences)).toEqual([]);
  });

  test("the check sees a runtime named in code but not in comments or strings", () => {
    const sample = [
      "// process the request; Buffer is not used here",
      '/* Deno and Bun */ const text = "process";',
      "const re = /['\"]/; const pid = process.pid;",
      "import { readFile } from 'node:fs';",
    ].join("\n");
    const code = blankCommentsAndStrings(sample).split("\n");
    expect(code.map((line) => RUNTIME_NAME.exec(line)?.[1])).toEqual([
      undefined,
      undefined,
      "process",
      undefined,
    ]);
    const imports = blankCommentsAndStrings(sample, { keepStrings: true }).split("\n");
    expect(imports.map((line) => NODE_IMPORT.test(line))).toEqual([false, false, false, true]);
  });
});
