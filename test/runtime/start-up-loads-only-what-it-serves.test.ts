/**
 * A server evaluates only the modules it uses: what `memory 1M --run …` loads on each runtime is
 * the static import graph of nbd.ts, of the runtime's adapter (which nbd.ts imports) and of the
 * memory plugin (which the plugin registry imports), followed through every import that is not
 * a type nor a dynamic import(). Nothing else may be in it: no other plugin or filter, no help
 * text, no WebSocket piece, no TLS, no HTTP or ws, and on Deno no `node:` module at all (its Node layer takes tens of milliseconds
 * to start). nbd.js, run with a preload that reports what Node loaded, starts from the code cache
 * of its bundle and loads neither TLS nor HTTP nor ws.
 */

import { readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, test } from "vitest";
import { expectSuccess, run, scratchDir } from "../helpers/captive.ts";
import { REPO_ROOT } from "../helpers/servers.ts";
import { blankCommentsAndStrings } from "../helpers/source-text.ts";

/** `import … from "x"`, `export … from "x"` and `import "x"`, but not `import type`. */
const STATIC_IMPORT =
  /(?:^|[;\n])\s*(?:(?:import|export)\s+(?!type\b)[^;]*?\bfrom|import)\s*["']([^"']+)["']/g;

/** The specifiers `path` imports statically (values, not types only). */
function staticImports(path: string): string[] {
  const code = blankCommentsAndStrings(readFileSync(path, "utf8"), { keepStrings: true });
  return [...code.matchAll(STATIC_IMPORT)].map((match) => match[1]);
}

/** Every file and outside module (`node:…`, packages) reached statically from `roots`. */
function loadedFrom(...roots: string[]): { files: string[]; modules: string[] } {
  const files = new Set<string>();
  const modules = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    for (const specifier of staticImports(file)) {
      if (specifier.startsWith(".")) visit(resolve(dirname(file), specifier));
      else modules.add(specifier);
    }
  };
  for (const root of roots) visit(join(REPO_ROOT, root));
  return {
    files: [...files].map((file) => relative(REPO_ROOT, file)).sort(),
    modules: [...modules],
  };
}

const MEMORY = ["nbd.ts", "src/plugins/memory.ts"];
const ADAPTERS = {
  node: "src/runtime/node.ts",
  deno: "src/runtime/deno.ts",
  bun: "src/runtime/bun.ts",
};

describe.each(Object.entries(ADAPTERS))("serving memory on %s", (name, adapter) => {
  const { files, modules } = loadedFrom(...MEMORY, adapter);

  test("loads the memory plugin and no other plugin or filter", () => {
    const layers = files.filter((file) => /^src\/(plugins|filters)\//.test(file));
    expect(layers).toEqual([
      "src/filters/registry.ts",
      "src/plugins/memory.ts",
      "src/plugins/registry.ts",
    ]);
  });

  test("leaves help texts and WebSocket pieces to the command lines that use them", () => {
    const unused =
      /^src\/(cli\/(help|answer-without-plugin)|embed\/(upgrade-policy|websocket)|backend\/probe-handle|runtime\/(websocket-gate|bun-websocket))\.ts$/;
    expect(files.filter((file) => unused.test(file))).toEqual([]);
  });

  test("leaves the ways to start a plugin's programs to the first program started", () => {
    const spawning =
      /^src\/runtime\/(node-spawn|node-forkserver|deno-spawn|bun-spawn|child-output|kill-tree)\.ts$/;
    expect(files.filter((file) => spawning.test(file))).toEqual([]);
  });

  test("loads neither TLS nor HTTP nor ws", () => {
    const heavy = modules.filter((module) =>
      /^(node:)?(tls|crypto|http|https|stream|zlib)$|^ws$/.test(module)
    );
    expect(heavy).toEqual([]);
    expect(files).not.toContain("src/runtime/starttls.ts");
  });

  if (name === "deno") {
    test("loads no node: module, so Deno's Node layer never starts", () => {
      expect(modules.filter((module) => module.startsWith("node:"))).toEqual([]);
    });
  }
});

describe("the check itself", () => {
  test("sees an adapter's eager imports", () => {
    // Plugins' files go through node-host.ts, on node:fs and node:child_process.
    const { files, modules } = loadedFrom("src/runtime/node-host.ts");
    expect(files).toContain("src/runtime/libc-file.ts");
    expect(modules).toEqual(expect.arrayContaining(["node:fs/promises", "node:child_process"]));
    expect(staticImports(join(REPO_ROOT, "src/plugins/registry.ts"))).toEqual([]);
  });
});

describe("nbd.js, serving memory", () => {
  /** What `node nbd.js ARGS` loaded, as test/fixtures/node-start-report.cjs saw it. */
  async function startReport(...args: string[]) {
    const report = join(scratchDir(), "report.json");
    const preload = join(REPO_ROOT, "test/fixtures/node-start-report.cjs");
    const nbdJs = join(REPO_ROOT, "nbd.js");
    // V8 takes a code cache only under the flags it was made with: none from the test runner.
    const env = { NBDTS_START_REPORT: report, NODE_OPTIONS: "" };
    expectSuccess(await run([process.execPath, "--require", preload, nbdJs, ...args], { env }));
    return JSON.parse(readFileSync(report, "utf8")) as {
      builtins: string[];
      required: string[];
      scripts: { filename: string; cached: boolean; rejected?: boolean }[];
    };
  }
  const SERVE_MEMORY = ["-U", "-", "memory", "1M", "--run", "true"];

  test("starts from the code cache its build made", async () => {
    const { scripts } = await startReport(...SERVE_MEMORY);
    expect(scripts).toEqual([{
      filename: join(REPO_ROOT, "build/node/nbdts-cli.cjs"),
      cached: true,
      rejected: false,
    }]);
  });

  test("loads neither TLS nor HTTP nor ws", async () => {
    const { builtins, required } = await startReport(...SERVE_MEMORY);
    expect(builtins.filter((name) => /^(_?tls|_tls_.*|crypto|https?|http2)$/.test(name)))
      .toEqual([]);
    expect(required.filter((file) => /\/(starttls|node-websocket)\.cjs$|\/ws\//.test(file)))
      .toEqual([]);
  });

  test("loads the WebSocket listener and HTTP with --websocket (the check sees them)", async () => {
    const { builtins, required } = await startReport(
      "--websocket",
      "-p",
      "0",
      ...SERVE_MEMORY.slice(2),
    );
    expect(builtins).toContain("http");
    expect(required).toContain(join(REPO_ROOT, "build/node/node-websocket.cjs"));
  });
});
