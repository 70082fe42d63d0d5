/**
 * Node's import() of an ES module by URL or package name (a plugin, esbuild), in this one place:
 * the command's bundle runs from V8's code cache, where Node 20 cannot serve an import() (V8
 * drops, with the cached code, what tells Node which loader to use), so the bundle's build puts
 * in its place the import() of nbd.js, its entry module (scripts/build-bundle.mjs).
 */

/** The module namespace of `specifier`, as import() gives it. */
export function importEsm(specifier: string): Promise<unknown> {
  return import(specifier);
}
