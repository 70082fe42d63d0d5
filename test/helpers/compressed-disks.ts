/**
 * Disk images for the decompressing filters' tests, made by the real tools (gzip, xz, tar) in
 * a scratch directory: a source image of text and random bytes (so that it compresses, but not
 * to nothing), and what each tool makes of it. Never judges a server.
 */

import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { scratchDir } from "./captive.ts";
import { CLIENT_PATH } from "./servers.ts";

/** `size` bytes: lines of text with runs of random bytes between them. */
export function sourceBytes(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let at = 0; at < size;) {
    const line = new TextEncoder().encode(`line at ${at}: the quick brown fox\n`);
    const kept = line.subarray(0, size - at);
    bytes.set(kept, at);
    at += kept.length;
    const noise = randomBytes(Math.min(64, Math.max(0, size - at)));
    bytes.set(noise, at);
    at += noise.length;
  }
  return bytes;
}

/** Runs a tool with Debian's PATH, in `cwd`; its stdout is returned. */
export function tool(cwd: string, program: string, args: readonly string[]): Buffer {
  return execFileSync(program, args, { cwd, env: { ...process.env, PATH: CLIENT_PATH } });
}

/** A fresh directory holding `name` with `bytes` in it; returns the directory and the path. */
export function sourceFile(name: string, bytes: Uint8Array): { dir: string; path: string } {
  const dir = scratchDir();
  const path = join(dir, name);
  writeFileSync(path, bytes);
  return { dir, path };
}
