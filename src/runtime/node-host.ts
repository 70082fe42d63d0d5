/**
 * The PluginHost on Node's file and process APIs. Deno and Bun implement node:fs and
 * node:child_process too, so all three adapters share it (sockets stay native per runtime);
 * those two also reach libc through their FFI, which gives files holes (libc-file.ts).
 */

import { spawn } from "node:child_process";
import { closeSync, openSync, type Stats, writeSync } from "node:fs";
import { constants as osConstants } from "node:os";
import {
  chmod,
  mkdtemp,
  open,
  opendir,
  readFile as readWholeFile,
  realpath,
  rm,
  stat,
  writeFile,
} from "node:fs/promises";
import process from "node:process";
import type {
  CommandResult,
  DirectoryEntry,
  DiskFile,
  FileKind,
  PipeState,
  PluginHost,
  ReadableFile,
  ShellEnd,
  SpawnOptions,
  SpawnResult,
  TextOutput,
} from "../io.ts";
import { type Libc, sparseCalls } from "./libc-file.ts";
import { reason } from "./fs-reason.ts";
import { readFirstLine, readPassword } from "./node-password.ts";
import { createTempFile } from "./temp-file.ts";
import { pathExists } from "./node-path-checks.ts";
import { watchPipe } from "./node-pipe-watch.ts";

/** Piece size for reading files of unknown length (pipes, /dev/urandom). */
const PIECE = 64 * 1024;

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

function kindOf(stats: Stats): FileKind {
  if (stats.isFile()) return "file";
  if (stats.isBlockDevice()) return "block";
  return stats.isDirectory() ? "directory" : "other";
}

async function fileKind(path: string): Promise<FileKind> {
  return kindOf(await stat(path).catch((error) => Promise.reject(reason(error))));
}

/** A block device's size: stat says 0, so ask sysfs for its 512-byte sectors (Linux). */
async function blockDeviceSize(rdev: number): Promise<number> {
  const major = Math.floor(rdev / 256) & 0xfff;
  const minor = (rdev & 0xff) | (Math.floor(rdev / 4096) & ~0xff);
  const sectors = new TextDecoder().decode(
    await readWholeFile(`/sys/dev/block/${major}:${minor}/size`),
  );
  return Number(sectors.trim()) * 512;
}

/**
 * Opens read-write (O_RDWR) unless asked for read-only, falling back to read-only as nbdkit's
 * file plugin does. The path is checked first: opening a fifo read-only would block forever.
 * With `libc`, the file finds its holes, and a writable one can punch and zero ranges.
 */
async function openFile(path: string, readonly: boolean, libc?: Libc): Promise<DiskFile> {
  const kind = await fileKind(path);
  if (kind !== "file" && kind !== "block") {
    throw new Error(`file is not regular or block device: ${path}`);
  }
  const fail = (error: unknown) => Promise.reject(reason(error));
  let writable = !readonly;
  const file = writable
    ? await open(path, "r+").catch(() => {
      writable = false;
      return open(path, "r").catch(fail);
    })
    : await open(path, "r").catch(fail);
  const stats = await file.stat();
  const sparse = libc && sparseCalls(libc, file.fd);
  return {
    ...(sparse && { nextData: sparse.nextData, nextHole: sparse.nextHole }),
    ...(sparse && writable && {
      punchHole: sparse.punchHole,
      zeroRange: sparse.zeroRange,
      allocate: sparse.allocate,
    }),
    readonly: !writable,
    kind,
    size: async () => kind === "block" ? blockDeviceSize(stats.rdev) : (await file.stat()).size,
    read: async (buf, offset) => (await file.read(buf, 0, buf.length, offset)).bytesRead,
    write: async (buf, offset) => (await file.write(buf, 0, buf.length, offset)).bytesWritten,
    sync: () => file.datasync(),
    close: () => file.close(),
  };
}

/**
 * In the order the directory gives (readdir(3), as nbdkit lists): node:fs readdir sorts on
 * Node, opendir does not. Symbolic links are followed to say what they name.
 */
async function listDirectory(path: string): Promise<DirectoryEntry[]> {
  const entries = await opendir(path).catch((error) => Promise.reject(reason(error)));
  const listed: DirectoryEntry[] = [];
  for await (const entry of entries) {
    let kind: FileKind = "other";
    if (entry.isFile()) kind = "file";
    else if (entry.isBlockDevice()) kind = "block";
    else if (entry.isDirectory()) kind = "directory";
    else if (entry.isSymbolicLink()) {
      kind = await stat(`${path}/${entry.name}`).then(kindOf, () => "other" as const);
    }
    listed.push({ name: entry.name, kind });
  }
  return listed;
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

/** Writes go straight to the descriptor (writeSync), so lines land in order and at once. */
function openTextOutput(path: string, append: boolean): Promise<TextOutput> {
  let fd: number;
  try {
    fd = openSync(path, append ? "a" : "w", 0o666);
  } catch (error) {
    return Promise.reject(reason(error));
  }
  const encoder = new TextEncoder();
  return Promise.resolve({
    write(text) {
      const bytes = encoder.encode(text);
      for (let done = 0; done < bytes.length;) done += writeSync(fd, bytes, done);
    },
    close: () => closeSync(fd),
  });
}

function runShell(script: string): Promise<ShellEnd> {
  return new Promise((resolve) => {
    const child = spawn("/bin/sh", ["-c", script], { stdio: "inherit" });
    child.on("error", () => resolve({ status: 127 }));
    child.on("exit", (code, name) => {
      const signal = name ? osConstants.signals[name] ?? 0 : undefined;
      resolve(signal === undefined ? { status: code ?? 1 } : { status: 128 + signal, signal });
    });
  });
}

/** Standard input to its end, read by `cat`, which inherits it as nbdkit's `cat >` does. */
async function readStdin(): Promise<Uint8Array> {
  const { output, status } = await runCommand("exec cat", undefined);
  if (status !== 0) throw new Error(`reading standard input failed (cat exited ${status})`);
  return output;
}

/** How a runtime starts programs for PluginHost.spawn. */
export type Spawner = (argv: readonly string[], options?: SpawnOptions) => Promise<SpawnResult>;

/**
 * A spawner that `load` imports and makes when the first program starts, so that a server whose
 * plugin runs none never evaluates it.
 */
function onFirstUse(load: () => Promise<Spawner>): Spawner {
  let spawner: Promise<Spawner> | undefined;
  return async (argv, options) => (await (spawner ??= load()))(argv, options);
}

/** node:child_process's spawner (node-spawn.ts). */
const childProcessSpawn = onFirstUse(async () => (await import("./node-spawn.ts")).nodeSpawn);

/**
 * The host; `loadLibc`, where the runtime has an FFI, gives libc (or undefined when it cannot
 * be loaded). It is asked once, when the first file is opened. `watch` watches a pipe, as the
 * runtime can (node:net's socket on a descriptor by default). `spawn` is the runtime's fastest
 * way to start a program (Deno.Command, Bun.spawn), node:child_process by default.
 */
export function createNodeHost(
  loadLibc?: () => Libc | undefined | Promise<Libc | undefined>,
  watch: (fd: number) => () => PipeState = watchPipe,
  spawn: Spawner = childProcessSpawn,
): PluginHost {
  let libc: Promise<Libc | undefined> | undefined;
  return {
    realpath: (path) => realpath(path).catch((error) => Promise.reject(reason(error))),
    openReadOnly,
    readFile,
    runCommand,
    getEnv: (name) => process.env[name],
    fileKind,
    async openFile(path, readonly) {
      libc ??= Promise.resolve(loadLibc?.());
      return openFile(path, readonly, await libc);
    },
    listDirectory,
    createTempFile,
    pathExists,
    openTextOutput,
    runShell,
    watchPipe: (fd) => Promise.resolve(watch(fd)),
    readFirstLine,
    readPassword,
    // Loaded on first use: a server whose plugin connects nowhere never evaluates the client.
    connect: async (target, receiver) =>
      (await import("./node-connect.ts")).connectSocket(target, receiver),
    startActivated: async (argv) => (await import("./node-activate.ts")).startActivated(argv),
    spawn,
    makeTempDir: (prefix = "/tmp/nbdts") => mkdtemp(prefix),
    async writeFile(path, data, mode) {
      await writeFile(path, data, { mode });
      await chmod(path, mode); // the mode given at creation is cut by the umask
    },
    removePath: (path) => rm(path, { recursive: true, force: true }),
    readStdin,
  };
}

/**
 * Node's host: Node 20 has no FFI and node:fs neither SEEK_DATA nor fallocate; programs start
 * through a pool of shell helpers, faster than child_process (node-forkserver.ts).
 */
export const nodeHost: PluginHost = createNodeHost(
  undefined,
  watchPipe,
  onFirstUse(async () => (await import("./node-forkserver.ts")).forkserverSpawner()),
);
