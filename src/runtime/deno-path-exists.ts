/**
 * PluginHost.pathExists on Deno's own file API, asked synchronously before requests, so it
 * never starts Deno's Node layer: access(2)'s F_OK is a stat; R_OK opens a regular file or
 * directory for reading and closes it, and reads the mode bits of anything else (a FIFO would
 * block an open until a writer came).
 */

import type { DenoApi, DenoFileInfo } from "./deno-api.ts";

const READ = { owner: 0o400, group: 0o040, other: 0o004 } as const;

export function denoPathExists(deno: DenoApi): (path: string, readable?: boolean) => boolean {
  return (path, readable = false) => {
    let info: DenoFileInfo;
    try {
      info = deno.statSync(path);
    } catch {
      return false;
    }
    if (!readable) return true;
    if (info.isFile || info.isDirectory) {
      try {
        deno.openSync(path, { read: true }).close();
        return true;
      } catch {
        return false;
      }
    }
    return readableByMode(info, deno.uid(), deno.gid());
  };
}

/** As access(2) judges by mode bits alone: root reads anything; else owner, group, others. */
function readableByMode(info: DenoFileInfo, uid: number | null, gid: number | null): boolean {
  if (uid === 0 || info.mode === null) return true;
  if (uid === info.uid) return (info.mode & READ.owner) !== 0;
  if (gid === info.gid) return (info.mode & READ.group) !== 0;
  return (info.mode & READ.other) !== 0;
}
