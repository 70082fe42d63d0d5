/**
 * The import graph of src/ follows the layers (README "Architecture", each folder's README):
 * a file imports only from its own folder or from a layer its folder may use, and no chain of
 * imports leads back to where it started. Type-only imports count: a type that points upward
 * is a dependency all the same. Comments are blanked first, so prose may name any file.
 */

import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, test } from "vitest";
import { REPO_ROOT } from "../helpers/servers.ts";
import { blankCommentsAndStrings } from "../helpers/source-text.ts";

const SRC = join(REPO_ROOT, "src");

/**
 * What each layer may import besides itself. A layer is a folder of src/, or one of the files
 * at its root: `io.ts` (the runtime contract) and the entry points.
 */
const MAY_IMPORT: Record<string, readonly string[]> = {
  "io.ts": [],
  api: ["io.ts"],
  wasm: [],
  protocol: ["api", "io.ts"],
  allocators: ["api", "wasm", "io.ts"],
  plugins: ["client", "allocators", "wasm", "protocol", "api", "io.ts"],
  filters: ["allocators", "wasm", "api", "io.ts"],
  backend: ["protocol", "api", "io.ts"],
  connection: ["backend", "protocol", "api", "io.ts"],
  tls: ["connection", "api", "io.ts"],
  load: ["plugins", "filters", "api", "io.ts"],
  embed: ["connection", "backend", "protocol", "api", "io.ts"],
  client: ["protocol", "api", "io.ts"],
  cli: ["tls", "load", "connection", "backend", "protocol", "api", "io.ts"],
  runtime: ["embed", "client.ts", "api", "io.ts"],
  "client.ts": ["client", "protocol", "api", "io.ts"],
  "edge.ts": [
    "client.ts",
    "embed",
    "connection",
    "backend",
    "filters",
    "plugins",
    "api",
    "io.ts",
  ],
  "main.ts": ["cli", "tls", "load", "embed", "connection", "backend", "api", "io.ts"],
  "mod.ts": ["edge.ts", "main.ts", "connection", "api", "io.ts"],
};

/** Every .ts file under `dir`. */
function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

/** The layer of a file: its first folder under src/, or its own name at the root. */
function layerOf(path: string): string {
  return relative(SRC, path).split("/")[0];
}

const IMPORT = /(?:\bfrom|\bimport)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g;

/** The files under src/ that `path` imports (static, dynamic and type-only alike). */
function importsOf(path: string): string[] {
  const code = blankCommentsAndStrings(readFileSync(path, "utf8"), { keepStrings: true });
  return [...code.matchAll(IMPORT)]
    .map((match) => resolve(dirname(path), match[1]))
    .filter((target) => target.startsWith(SRC + "/"));
}

function graph(): Map<string, string[]> {
  return new Map(sourceFiles(SRC).map((file) => [file, importsOf(file)]));
}

/** "from -> to" for each import that leaves its layer for one it may not use. */
function upwardImports(imports: Map<string, string[]>): string[] {
  const found: string[] = [];
  for (const [file, targets] of imports) {
    const layer = layerOf(file);
    for (const target of targets) {
      const to = layerOf(target);
      if (to !== layer && !(MAY_IMPORT[layer] ?? []).includes(to)) {
        found.push(`${relative(REPO_ROOT, file)} -> ${relative(REPO_ROOT, target)}`);
      }
    }
  }
  return found;
}

/** One cycle of the graph, as the chain of nodes that closes it, or undefined. */
function findCycle(edges: Map<string, readonly string[]>): string[] | undefined {
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === "done") return undefined;
    if (state.get(node) === "open") return [...path.slice(path.indexOf(node)), node];
    state.set(node, "open");
    path.push(node);
    for (const next of edges.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    state.set(node, "done");
    return undefined;
  };
  for (const node of edges.keys()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return undefined;
}

describe("the layers of src/", () => {
  test("every file of src/ belongs to a known layer", () => {
    const unknown = sourceFiles(SRC).map(layerOf).filter((layer) => !(layer in MAY_IMPORT));
    expect([...new Set(unknown)]).toEqual([]);
  });

  test("no file imports from a layer above its own", () => {
    expect(upwardImports(graph())).toEqual([]);
  });

  test("no chain of imports between files comes back to where it started", () => {
    const cycle = findCycle(graph());
    expect(cycle?.map((file) => relative(REPO_ROOT, file))).toBeUndefined();
  });

  test("the layers themselves form no circle", () => {
    expect(findCycle(new Map(Object.entries(MAY_IMPORT)))).toBeUndefined();
  });

  test("the checks catch an upward import and a circle", () => {
    const api = join(SRC, "api/plugin.ts");
    const session = join(SRC, "connection/session.ts");
    const planted = new Map([[api, [session]], [session, [api]]]);
    expect(upwardImports(planted)).toEqual(["src/api/plugin.ts -> src/connection/session.ts"]);
    expect(findCycle(planted)).toEqual([api, session, api]);
  });

  test("imports are read from code, not from comments", () => {
    const found = [
      ...blankCommentsAndStrings('// import { x } from "../cli/args.ts";\nimport "./a.ts";', {
        keepStrings: true,
      }).matchAll(IMPORT),
    ].map((match) => match[1]);
    expect(found).toEqual(["./a.ts"]);
  });
});
