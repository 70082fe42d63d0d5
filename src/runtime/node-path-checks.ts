/**
 * Synchronous looks at a path or descriptor on node:fs, for Node and Bun: Runtime.isDirectory,
 * PluginHost.pathExists (which a filter asks before each request, so it cannot wait for the
 * lazily loaded host), and whether a descriptor is a pipe (the exitwhen filter's).
 */

import { accessSync, constants, fstatSync, statSync } from "node:fs";

/** Whether `path` is a directory; false when it cannot be looked at. */
export function isDirectory(path: string): boolean {
  try {
    return statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
  } catch {
    return false;
  }
}

/** Whether `path` exists now, or with `readable` may be read, as access(2) with F_OK or R_OK. */
export function pathExists(path: string, readable = false): boolean {
  try {
    accessSync(path, readable ? constants.R_OK : constants.F_OK);
    return true;
  } catch {
    return false;
  }
}

/** Whether `fd` is a pipe or socket, by fstat; false when it is not open. */
export function isPipe(fd: number): boolean {
  try {
    const stats = fstatSync(fd);
    return stats.isFIFO() || stats.isSocket();
  } catch {
    return false;
  }
}
