/**
 * Node's importModule: loads a plugin or filter module by path. Node 20 cannot run TypeScript,
 * so a .ts module is bundled with esbuild (a dependency of nbdts) into a temporary module first;
 * a .js, .mjs or .cjs one loads as Node loads it. A module that does not parse is told with its
 * file, line and column: esbuild's for a .ts, and for a .js esbuild's reading of it, since V8
 * says where only for CommonJS, and without the column.
 */

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import process from "node:process";
import { pathToFileURL } from "node:url";
import { esbuildDiagnostics, locatedError } from "./source-location.ts";
import { importEsm } from "./esm-import.ts";

type Esbuild = typeof import("esbuild");

/** esbuild's errors, when `failure` is the BuildFailure it throws. */
function buildErrors(failure: unknown): Parameters<typeof esbuildDiagnostics>[0] {
  const errors = (failure as { errors?: unknown } | null)?.errors;
  return Array.isArray(errors) ? errors : [];
}

/** `failure` told with its location when esbuild gave one, else as it is. */
function located(failure: unknown): unknown {
  const diagnostics = esbuildDiagnostics(buildErrors(failure));
  return diagnostics.length > 0 ? locatedError(diagnostics, process.cwd()) : failure;
}

async function loadEsbuild(): Promise<Esbuild | undefined> {
  try {
    return await importEsm("esbuild") as Esbuild;
  } catch {
    return undefined;
  }
}

/** Gives the bundle a `require`, which an ES module lacks, for the CommonJS code bundled in it. */
const REQUIRE_BANNER = "import { createRequire as nbdtsCreateRequire } from 'node:module';\n" +
  "const require = nbdtsCreateRequire(import.meta.url);";

/** Marks what esbuild's own resolution is asked for, so the plugin below does not ask again. */
const RESOLVING = Symbol("resolving nbdts");

/**
 * Leaves `nbdts` out of the bundle, imported from where it resolves for the plugin, by file URL
 * (the bundle lives elsewhere): bundling it again would cost a fifth of a second at start-up.
 */
const sharedNbdts: import("esbuild").Plugin = {
  name: "shared-nbdts",
  setup(build) {
    build.onResolve({ filter: /^nbdts(\/.*)?$/ }, async (args) => {
      if (args.pluginData === RESOLVING) return undefined;
      const { resolveDir, kind } = args;
      const found = await build.resolve(args.path, { resolveDir, kind, pluginData: RESOLVING });
      if (found.errors.length > 0) return { errors: found.errors };
      return { path: pathToFileURL(found.path).href, external: true };
    });
  },
};

/** Bundles a TypeScript module (and what it imports) into a temporary module, then loads that. */
async function importTypeScript(file: string): Promise<unknown> {
  const esbuild = await loadEsbuild();
  if (esbuild === undefined) {
    throw new Error(
      "Node needs esbuild, a dependency of nbdts, to load a .ts module: reinstall nbdts " +
        "(npm install nbdts), or write the module as .js",
    );
  }
  const dir = await mkdtemp(join(tmpdir(), "nbdts-plugin"));
  const out = join(dir, "plugin.mjs");
  try {
    await esbuild.build({
      entryPoints: [file],
      bundle: true,
      format: "esm",
      platform: "node",
      outfile: out,
      plugins: [sharedNbdts],
      // CommonJS code bundled into an ES module requires Node built-ins through this.
      banner: { js: REQUIRE_BANNER },
      // So that a stack names the plugin's own file and line, not the temporary bundle's.
      sourcemap: "inline",
      sourcesContent: false,
      logLevel: "silent",
    }).catch((failure) => Promise.reject(located(failure)));
    process.setSourceMapsEnabled(true);
    return await importEsm(pathToFileURL(out).href);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Where a .js module (or one it imports) fails to parse, as esbuild reads it; `error`, V8's
 * SyntaxError, when esbuild finds nothing (it reads ES modules and CommonJS alike, so a module
 * in the wrong one of the two parses here and keeps Node's message).
 */
async function locateSyntaxError(file: string, error: SyntaxError): Promise<unknown> {
  const esbuild = await loadEsbuild();
  if (esbuild === undefined) return error;
  try {
    await esbuild.build({
      entryPoints: [file],
      bundle: true,
      write: false,
      format: "esm",
      platform: "node",
      packages: "external",
      logLevel: "silent",
    });
  } catch (failure) {
    const found = located(failure);
    if (found !== failure) return found;
  }
  return error;
}

export async function importModule(path: string): Promise<unknown> {
  const file = resolve(path);
  if (/\.[cm]?ts$/.test(file)) return importTypeScript(file);
  try {
    return await importEsm(pathToFileURL(file).href);
  } catch (error) {
    throw error instanceof SyntaxError ? await locateSyntaxError(file, error) : error;
  }
}
