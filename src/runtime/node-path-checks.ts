/**
 * Synchronous looks at a path on node:fs, for Node and Bun: Runtime.isDirectory, and
 * PluginHost.pathExists (which a filter asks before each request, so it cannot wait for the
 * lazily loaded host).
 */

import { existsSync, statSync } from "node:fs";

/** Whether `path` is a directory; false when it cannot be looked at. */
export function isDirectory(path: string): boolean {
  try {
    return statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
  } catch {
    return false;
  }
}

/** Whether `path` exists now, as access(2) with F_OK says. */
export function pathExists(path: string): boolean {
  return existsSync(path);
}
