/**
 * Export names as nbdkit handles them: the default export "" resolved through the plugin's
 * defaultExport (nbdkit's .default_export), the export list for NBD_OPT_LIST from listExports
 * or else the default export alone, and block sizes checked as nbdkit's plugin_block_size does.
 */

import { ERRNO, NbdError } from "../api/errors.ts";
import type { BlockSize, ExportEntry, Plugin } from "../api/plugin.ts";
import { LIMITS } from "../protocol/limits.ts";

const encoder = new TextEncoder();

function validName(name: unknown): name is string {
  return typeof name === "string" && encoder.encode(name).length <= LIMITS.MAX_STRING &&
    !name.includes("\0");
}

/** Where one connection keeps the plugin's default export once asked (nbdkit's conn cache). */
export interface DefaultExportCache {
  defaultExport?: string;
}

/**
 * The name to open for what the client asked: "" becomes the plugin's default export, asked
 * once for each `cache` given.
 */
export async function resolveExportName(
  plugin: Plugin,
  readonly: boolean,
  requested: string,
  tls: boolean,
  cache: DefaultExportCache = {},
): Promise<string> {
  if (requested !== "" || !plugin.defaultExport) return requested;
  if (cache.defaultExport !== undefined) return cache.defaultExport;
  const name = await plugin.defaultExport(readonly, tls);
  if (!validName(name)) {
    throw new NbdError(ERRNO.ENOENT, 'the default export ("") is not permitted');
  }
  cache.defaultExport = name;
  return name;
}

/** The exports NBD_OPT_LIST reports. */
export async function listExports(
  plugin: Plugin,
  readonly: boolean,
  tls: boolean,
  cache: DefaultExportCache = {},
): Promise<ExportEntry[]> {
  const entries = (await plugin.listExports?.(readonly, tls)) ??
    await defaultOnly(plugin, readonly, tls, cache);
  if (entries.length > LIMITS.MAX_EXPORTS) {
    throw new NbdError(ERRNO.EINVAL, `too many exports (more than ${LIMITS.MAX_EXPORTS})`);
  }
  for (const entry of entries) {
    if (!validName(entry.name)) throw new NbdError(ERRNO.EINVAL, "invalid export name in list");
  }
  return entries;
}

async function defaultOnly(
  plugin: Plugin,
  readonly: boolean,
  tls: boolean,
  cache: DefaultExportCache,
): Promise<ExportEntry[]> {
  try {
    return [{ name: await resolveExportName(plugin, readonly, "", tls, cache) }];
  } catch {
    return []; // no default export: an empty list, as nbdkit gives
  }
}

const isPowerOfTwo = (n: number) => Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;

/** A plugin's block sizes, checked; undefined when it gives none (or all zeroes). */
export function checkBlockSize(size: BlockSize | undefined): BlockSize | undefined {
  if (!size || (size.minimum === 0 && size.preferred === 0 && size.maximum === 0)) return undefined;
  const { minimum, preferred, maximum } = size;
  const fail = (why: string) => {
    throw new NbdError(ERRNO.EINVAL, `plugin must set ${why}`);
  };
  if (!(minimum >= 1 && minimum <= 65536)) fail("minimum block size between 1 and 64K");
  if (!isPowerOfTwo(minimum)) fail("minimum block size to a power of 2");
  if (!isPowerOfTwo(preferred)) fail("preferred block size to a power of 2");
  if (preferred < 512 || preferred > 32 * 1024 * 1024) {
    fail("preferred block size between 512 and 32M");
  }
  if (maximum !== 0xffffffff && maximum % minimum !== 0) {
    fail("maximum block size to -1 or a multiple of minimum block size");
  }
  if (minimum > preferred || preferred > maximum) {
    fail("minimum block size <= preferred <= maximum");
  }
  return { minimum, preferred, maximum };
}
