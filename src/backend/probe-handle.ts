/**
 * --dump-plugin's look at a handle. nbdkit reads which callbacks a plugin has from its struct;
 * ours are on the handle open() returns, so one is opened (read-write, for the default export,
 * before configComplete, as nbdkit dumps before config_complete), looked at, and closed.
 */

import type { Handle, Plugin } from "../api/plugin.ts";

/**
 * A handle of `plugin`, already closed, to read its methods from; undefined when open fails (as
 * it may without the plugin's parameters) or gives no object.
 */
export async function probeHandle(plugin: Plugin): Promise<object | undefined> {
  let handle: unknown;
  try {
    handle = await plugin.open(false, "");
  } catch {
    return undefined;
  }
  if (typeof handle !== "object" || handle === null) return undefined;
  try {
    await (handle as Partial<Handle>).close?.();
  } catch {
    // its methods are what we came for
  }
  return handle;
}
