/**
 * Anonymous temporary files on node:fs (which Deno and Bun implement too): a file created with
 * a fresh random name and mode 0600, then unlinked at once, so nothing is left behind however
 * the process ends. Filters keep what they must not hold in memory there (gzip's expansion).
 */

import { open, unlink } from "node:fs/promises";
import type { DiskFile } from "../io.ts";
import { reason } from "./fs-reason.ts";

/** Tries before giving up when every random name is taken. */
const ATTEMPTS = 100;

function randomName(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(6));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** A new file in `directory`, already unlinked; rejects with the system's reason. */
export async function createTempFile(directory: string): Promise<DiskFile> {
  for (let attempt = 1;; attempt++) {
    const path = `${directory}/nbdts-${randomName()}`;
    let file;
    try {
      file = await open(path, "wx+", 0o600);
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === "EEXIST" && attempt < ATTEMPTS) continue;
      throw reason(error);
    }
    await unlink(path);
    return {
      readonly: false,
      kind: "file",
      size: async () => (await file.stat()).size,
      read: async (buf, offset) => (await file.read(buf, 0, buf.length, offset)).bytesRead,
      write: async (buf, offset) => (await file.write(buf, 0, buf.length, offset)).bytesWritten,
      sync: () => file.datasync(),
      close: () => file.close(),
    };
  }
}
