/**
 * The PluginHost on Node's file and process APIs. Deno and Bun implement node:fs and
 * node:child_process too, so all three adapters share it (sockets stay native per runtime).
 */

import { spawn } from "node:child_process";
import { open, realpath } from "node:fs/promises";
import process from "node:process";
import type { CommandResult, PluginHost, ReadableFile } from "../io.ts";

/** Piece size for reading files of unknown length (pipes, /dev/urandom). */
const PIECE = 64 * 1024;

function reason(error: unknown): Error {
  const code = (error as { code?: string }).code;
  const text: Record<string, string> = {
    ENOENT: "No such file or directory",
    EACCES: "Permission denied",
    EISDIR: "Is a directory",
  };
  return new Error(code && text[code] ? text[code] : (error as Error).message);
}

async function openReadOnly(path: string): Promise<ReadableFile> {
  const file = await open(path, "r").catch((error) => Promise.reject(reason(error)));
  return {
    size: async () => (await file.stat()).size,
    read: async (buf, offset) => (await file.read(buf, 0, buf.length, offset)).bytesRead,
    close: () => file.close(),
  };
}

/** Reads at `offset`; a file that cannot seek (a pipe, a character device) is read and skipped. */
async function readFile(path: string, offset: number, length: number | undefined) {
  const file = await open(path, "r").catch((error) => Promise.reject(reason(error)));
  try {
    const seekable = (await file.stat()).isFile();
    const pieces: Uint8Array[] = [];
    let total = 0;
    let skip = seekable ? 0 : offset;
    let position: number | null = seekable ? offset : null;
    while (length === undefined || total < length) {
      const want = Math.min(PIECE, length === undefined ? PIECE : length - total + skip);
      const buf = new Uint8Array(want);
      const { bytesRead } = await file.read(buf, 0, want, position);
      if (bytesRead === 0) break;
      if (position !== null) position += bytesRead;
      const dropped = Math.min(skip, bytesRead);
      skip -= dropped;
      const piece = buf.subarray(dropped, bytesRead);
      pieces.push(piece);
      total += piece.length;
    }
    const out = new Uint8Array(total);
    let at = 0;
    for (const piece of pieces) {
      out.set(piece, at);
      at += piece.length;
    }
    return length !== undefined && out.length > length ? out.subarray(0, length) : out;
  } finally {
    await file.close();
  }
}

function runCommand(script: string, limit: number | undefined): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn("/bin/sh", ["-c", script], { stdio: ["inherit", "pipe", "inherit"] });
    const pieces: Uint8Array[] = [];
    let total = 0;
    child.stdout.on("data", (chunk: Uint8Array) => {
      pieces.push(chunk);
      total += chunk.length;
      if (limit !== undefined && total >= limit) child.stdout.destroy();
    });
    if (limit === 0) child.stdout.destroy();
    child.on("error", reject);
    child.on("close", (status) => {
      const output = new Uint8Array(total);
      let at = 0;
      for (const piece of pieces) {
        output.set(piece, at);
        at += piece.length;
      }
      resolve({ output, status: status ?? 1 });
    });
  });
}

export const nodeHost: PluginHost = {
  realpath: (path) => realpath(path).catch((error) => Promise.reject(reason(error))),
  openReadOnly,
  readFile,
  runCommand,
  getEnv: (name) => process.env[name],
};
