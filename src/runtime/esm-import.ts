/**
 * import() of a module by URL or package name (a plugin, esbuild), in this one place for every
 * adapter: Node's command runs from V8's code cache, where Node 20 cannot serve an import()
 * (V8 drops, with the cached code, what tells Node which loader to use), so the command's build
 * puts in its place the import() of nbd.js, its entry module (scripts/build-bundle.mjs). That
 * bundle also runs on Deno and Bun (`deno run -A npm:nbdts`), with their adapters in it.
 */

/** The module namespace of `specifier`, as import() gives it. */
export function importEsm(specifier: string): Promise<unknown> {
  return import(specifier);
}
