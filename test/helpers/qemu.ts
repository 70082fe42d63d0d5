/**
 * Finds a qemu that speaks extended headers (8.2 and later) for the interop tests: the
 * directory in $QEMU_DIR, else /opt/qemu10/usr/bin (Debian's bookworm-backports qemu-utils 10
 * unpacked there), else qemu-img on the clients' PATH. Tests skip, saying why, when none is.
 * Also starts qemu-nbd, the reference server that speaks extended headers, in the background.
 */

import { execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { onTestFinished } from "vitest";
import { expectSuccess, run, scratchDir } from "./captive.ts";
import { findProgram, type SkippableContext } from "./servers.ts";

export interface Qemu {
  /** The directory holding qemu-img, qemu-io and qemu-nbd. */
  readonly dir: string;
  readonly version: string;
}

const CANDIDATES = [process.env.QEMU_DIR, "/opt/qemu10/usr/bin"];

function versionOf(dir: string): string | undefined {
  try {
    const text = execFileSync(join(dir, "qemu-img"), ["--version"], { encoding: "utf8" });
    return /version (\d+\.\d+(?:\.\d+)?)/.exec(text)?.[1];
  } catch {
    return undefined;
  }
}

function atLeast(version: string, major: number, minor: number): boolean {
  const [a, b] = version.split(".").map(Number);
  return a > major || (a === major && b >= minor);
}

/** The first qemu found that is 8.2 or later, or undefined. */
export function qemuWithExtendedHeaders(): Qemu | undefined {
  const onPath = findProgram("qemu-img");
  const dirs = [...CANDIDATES, onPath && onPath.replace(/\/qemu-img$/, "")];
  for (const dir of dirs) {
    if (!dir) continue;
    const version = versionOf(dir);
    if (version && atLeast(version, 8, 2)) return { dir, version };
  }
  return undefined;
}

/** The qemu to use, or a skip naming what is missing (a failure under NBD_REQUIRE_CLIENTS=1). */
export function requireQemuExtendedHeaders(context: SkippableContext): Qemu {
  const qemu = qemuWithExtendedHeaders();
  if (qemu) return qemu;
  const message = "requires qemu-img, qemu-io and qemu-nbd 8.2 or later (extended headers), " +
    "in $QEMU_DIR, /opt/qemu10/usr/bin or on PATH, which is not installed";
  if (process.env.NBD_REQUIRE_CLIENTS === "1") throw new Error(`Cannot run test: ${message}`);
  context.skip(message);
  throw new Error("unreachable: skip() throws");
}

/** A qemu-nbd serving one raw disk in the background. */
export interface QemuNbd {
  /** Its Unix socket. */
  readonly socket: string;
  /** `nbd+unix:///?socket=…`. */
  readonly uri: string;
}

/**
 * Starts qemu-nbd on a fresh raw disk of `size` (qemu-img's sizes: "1M", "4T") in a private
 * directory, persistent and open to eight clients at once, with `options` before the file;
 * resolves once its socket exists. It is killed when the current test finishes.
 */
export async function startQemuNbd(
  qemu: Qemu,
  size: string,
  options: readonly string[] = [],
): Promise<QemuNbd> {
  const dir = scratchDir();
  const disk = join(dir, "disk");
  expectSuccess(await run([join(qemu.dir, "qemu-img"), "create", "-f", "raw", disk, size]));
  const socket = join(dir, "sock");
  const args = ["-k", socket, "-f", "raw", "-t", "-e", "8", ...options, disk];
  const server = spawn(join(qemu.dir, "qemu-nbd"), args, { stdio: "ignore" });
  onTestFinished(() => void server.kill());
  for (let i = 0; i < 400 && !existsSync(socket); i++) {
    if (server.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  if (!existsSync(socket)) throw new Error(`Cannot start qemu-nbd ${args.join(" ")}`);
  return { socket, uri: `nbd+unix:///?socket=${socket}` };
}

/** The map `qemu-img map --output=json` printed: the JSON array lines of its stdout. */
export function qemuImgMap(stdout: string): unknown {
  const lines = stdout.split("\n").filter((line) => /^\[?\{ "start"/.test(line));
  return JSON.parse(lines.join("\n").replace(/\}\]?$/, "}]"));
}
