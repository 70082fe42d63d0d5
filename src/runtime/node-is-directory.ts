/** Runtime.isDirectory on node:fs, for Node and Bun: false when `path` cannot be looked at. */

import { statSync } from "node:fs";

export function isDirectory(path: string): boolean {
  try {
    return statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
  } catch {
    return false;
  }
}
