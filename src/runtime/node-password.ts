/**
 * Passwords for plugins and filters, as nbdkit_read_password reads them, on Node's file, tty
 * and process APIs (Deno and Bun implement them too): the first line of a file, pipe or
 * inherited descriptor, read no further than that line; and a line typed at the terminal on
 * stdin with echo off (stty, as nbdkit's tcsetattr turns off ECHO alone, so line editing works).
 */

import { spawnSync } from "node:child_process";
import { writeSync } from "node:fs";
import { open } from "node:fs/promises";
import { isatty } from "node:tty";
import { reason } from "./fs-reason.ts";

const NEWLINE = 0x0a;
/** Bytes read at once from a regular file, whose extra bytes cost nothing to leave. */
const FILE_PIECE = 4096;

/**
 * Reads up to the first newline. A regular file is read a piece at a time; anything else
 * (a pipe, a terminal) a byte at a time, so that what follows the line stays unread there.
 */
export async function readFirstLine(path: string): Promise<Uint8Array> {
  const file = await open(path, "r").catch((error) => Promise.reject(reason(error)));
  try {
    const regular = (await file.stat()).isFile();
    const piece = new Uint8Array(regular ? FILE_PIECE : 1);
    const parts: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const { bytesRead } = await file.read(piece, 0, piece.length, regular ? total : null);
      if (bytesRead === 0) break;
      const newline = piece.subarray(0, bytesRead).indexOf(NEWLINE);
      const kept = piece.slice(0, newline < 0 ? bytesRead : newline + 1);
      parts.push(kept);
      total += kept.length;
      if (newline >= 0) break;
    }
    const line = new Uint8Array(total);
    let at = 0;
    for (const part of parts) {
      line.set(part, at);
      at += part.length;
    }
    return line;
  } catch (error) {
    throw reason(error);
  } finally {
    await file.close();
  }
}

function setEcho(on: boolean): void {
  spawnSync("stty", [on ? "echo" : "-echo"], { stdio: ["inherit", "ignore", "ignore"] });
}

/** The prompt, then a line from the terminal on stdin typed unseen; undefined without one. */
export async function readPassword(prompt: string): Promise<Uint8Array | undefined> {
  if (!isatty(0)) return undefined;
  // Echo goes off before the prompt shows (nbdkit's prompt waits in stdio's buffer until it
  // reads), so nothing typed after the prompt is seen.
  setEcho(false);
  writeSync(1, prompt);
  try {
    return await readFirstLine("/dev/stdin");
  } finally {
    setEcho(true);
    writeSync(1, "\n");
  }
}
