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

const SRC = join(REPO_ROOT, "src");
const RUNTIME_DIR = join(SRC, "runtime");

/** Keywords after which a `/` starts a regular expression rather than dividing. */
const BEFORE_REGEX =
  /(?:^|[^\w$])(?:return|typeof|case|do|else|in|of|new|delete|void|throw|yield|await)$/;

/**
 * `source` with comments, regular expressions and (unless `keepStrings`) the contents of string
 * and template literals replaced by spaces; line breaks stay, so line numbers still match.
 * A small lexer, enough for our own sources: code inside `${…}` stays code.
 */
function blankCommentsAndStrings(source: string, options = { keepStrings: false }): string {
  const out = source.split("");
  const blank = (from: number, to: number) => {
    for (let i = from; i < to; i++) if (out[i] !== "\n") out[i] = " ";
  };
  const templateDepths: number[] = []; // brace depth at each open `${`, innermost last
  let depth = 0;
  let i = 0;
  let lastCode = ""; // code seen since the last line break, to tell a regex from a division
  const scanQuoted = (quote: string): number => {
    let j = i + 1;
    while (j < source.length && source[j] !== quote) j += source[j] === "\\" ? 2 : 1;
    return j; // index of the closing quote
  };
  /** Scans template text from `i` (just after "`" or "}"); returns where it stopped. */
  const scanTemplate = (): void => {
    let j = i;
    while (
      j < source.length && source[j] !== "`" && !(source[j] === "$" && source[j + 1] === "{")
    ) {
      j += source[j] === "\\" ? 2 : 1;
    }
    if (!options.keepStrings) blank(i, j);
    if (source[j] === "`") {
      i = j + 1;
    } else {
      templateDepths.push(depth);
      depth++;
      i = j + 2;
    }
  };
  while (i < source.length) {
    const c = source[i];
    const next = source[i + 1];
    if (c === "/" && next === "/") {
      const end = source.indexOf("\n", i);
      const stop = end === -1 ? source.length : end;
      blank(i, stop);
      i = stop;
    } else if (c === "/" && next === "*") {
      const end = source.indexOf("*/", i + 2);
      const stop = end === -1 ? source.length : end + 2;
      blank(i, stop);
      i = stop;
    } else if (c === "'" || c === '"') {
      const end = scanQuoted(c);
      if (!options.keepStrings) blank(i + 1, end);
      lastCode += "s";
      i = end + 1;
    } else if (c === "`") {
      i++;
      scanTemplate();
      lastCode += "s";
    } else if (
      c === "/" && (/[(,=:[!&|?{};+\-*%<>~^]$/.test(lastCode.trimEnd()) ||
        lastCode.trim() === "" || BEFORE_REGEX.test(lastCode.trimEnd()))
    ) {
      let j = i + 1;
      let inClass = false;
      while (j < source.length && source[j] !== "\n" && (inClass || source[j] !== "/")) {
        if (source[j] === "\\") j++;
        else if (source[j] === "[") inClass = true;
        else if (source[j] === "]") inClass = false;
        j++;
      }
      blank(i + 1, j);
      lastCode += "r";
      i = j + 1;
    } else {
      if (c === "{") depth++;
      if (c === "}") {
        depth--;
        if (templateDepths.length > 0 && templateDepths[templateDepths.length - 1] === depth) {
          templateDepths.pop();
          i++;
          scanTemplate();
          continue;
        }
      }
      lastCode = c === "\n" ? "" : lastCode + c;
      i++;
    }
  }
  return out.join("");
}

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
