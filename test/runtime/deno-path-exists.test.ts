/**
 * PluginHost.pathExists on Deno's file API (src/runtime/deno-path-exists.ts), with a stand-in
 * Deno: F_OK is a stat; R_OK opens regular files and directories, and judges anything else (a
 * FIFO, which an open would block on) by its mode bits as access(2) does, root reading all.
 */

import { describe, expect, test } from "vitest";
import type { DenoApi, DenoFileInfo } from "../../src/runtime/deno-api.ts";
import { denoPathExists } from "../../src/runtime/deno-path-exists.ts";

const FILE: DenoFileInfo = { isFile: true, isDirectory: false, mode: 0o600, uid: 5, gid: 5 };
const FIFO: DenoFileInfo = { isFile: false, isDirectory: false, mode: 0o640, uid: 5, gid: 7 };

/** A Deno whose files are `files` (path to info), readable when in `openable`, run as `uid`. */
function fakeDeno(files: Record<string, DenoFileInfo>, openable: string[], uid: number, gid = 9) {
  const opened: string[] = [];
  const deno = {
    statSync(path: string) {
      const info = files[path];
      if (info === undefined) throw new Error("NotFound");
      return info;
    },
    openSync(path: string) {
      if (!openable.includes(path)) throw new Error("PermissionDenied");
      opened.push(path);
      return { close() {} };
    },
    uid: () => uid,
    gid: () => gid,
  } as unknown as DenoApi;
  return { exists: denoPathExists(deno), opened };
}

describe("denoPathExists", () => {
  test("without readable, any file that stats exists", () => {
    const { exists, opened } = fakeDeno({ "/f": FILE }, [], 5);
    expect(exists("/f")).toBe(true);
    expect(exists("/missing")).toBe(false);
    expect(exists("/missing", true)).toBe(false);
    expect(opened).toEqual([]);
  });

  test("a regular file is readable when it opens for reading", () => {
    expect(fakeDeno({ "/f": FILE }, ["/f"], 5).exists("/f", true)).toBe(true);
    expect(fakeDeno({ "/f": FILE }, [], 5).exists("/f", true)).toBe(false);
  });

  test("a FIFO is never opened: its owner, group and other bits decide, root reads it", () => {
    const fifo = { "/p": FIFO };
    expect(fakeDeno(fifo, [], 5).exists("/p", true)).toBe(true); // owner: r
    expect(fakeDeno(fifo, [], 6, 7).exists("/p", true)).toBe(true); // group: r
    expect(fakeDeno(fifo, [], 6, 8).exists("/p", true)).toBe(false); // other: none
    expect(fakeDeno(fifo, [], 0).exists("/p", true)).toBe(true); // root
    const openable = fakeDeno(fifo, ["/p"], 6, 8);
    expect(openable.exists("/p", true)).toBe(false);
    expect(openable.opened).toEqual([]);
  });
});
