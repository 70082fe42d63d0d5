/**
 * LUKS disks for the luks filter's tests, made by the real tools in a scratch directory:
 * `qemu-img create -f luks` and `cryptsetup luksFormat`, filled and read back through qemu's
 * own LUKS driver (`qemu-img convert` with `--image-opts driver=luks`). Key derivation is kept
 * short (`iter-time`, `--pbkdf-force-iterations`) so that every connection opens quickly.
 * Never judges a server.
 */

import { execFileSync, type ExecFileSyncOptions } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { CLIENT_PATH } from "./servers.ts";

export const PASSPHRASE = "correct horse";

const OPTIONS: ExecFileSyncOptions = {
  env: { ...process.env, PATH: `${CLIENT_PATH}:/usr/sbin:/sbin` },
  stdio: ["ignore", "pipe", "pipe"],
};

/** qemu's secret object and the LUKS driver options naming it. */
const SECRET = `secret,id=sec0,data=${PASSPHRASE}`;

function qemuImg(args: readonly string[]): Buffer {
  return execFileSync("qemu-img", args, OPTIONS) as Buffer;
}

/**
 * `qemu-img create -f luks` of `size` bytes with extra `-o` options ("cipher-alg=aes-128",
 * "hash-alg=sha1" …). qemu measures PBKDF2 speed with CPU time first, and on a busy machine
 * that sometimes fails ("Unable to get accurate CPU usage"): such a failure is tried again.
 */
export function qemuLuks(dir: string, name: string, size: number, options: string[] = []): string {
  const path = join(dir, name);
  const opts = ["key-secret=sec0", "iter-time=50", ...options].join(",");
  for (let attempt = 1;; attempt++) {
    try {
      qemuImg(["create", "-q", "-f", "luks", "--object", SECRET, "-o", opts, path, String(size)]);
      return path;
    } catch (error) {
      if (attempt >= 10 || !String(error).includes("accurate CPU usage")) throw error;
    }
  }
}

/**
 * `cryptsetup luksFormat` of a `size`-byte file with `args` ("--type", "luks1", "--cipher", …),
 * the passphrase from a key file, 1000 PBKDF2 iterations.
 */
export function cryptsetupLuks(
  dir: string,
  name: string,
  size: number,
  args: readonly string[],
): string {
  const path = join(dir, name);
  const keyFile = join(dir, `${name}.key`);
  writeFileSync(keyFile, PASSPHRASE);
  writeFileSync(path, new Uint8Array(0));
  execFileSync("truncate", ["-s", String(size), path], OPTIONS);
  execFileSync("cryptsetup", [
    "luksFormat",
    "-q",
    "--key-file",
    keyFile,
    "--pbkdf-force-iterations",
    "1000",
    ...args,
    path,
  ], OPTIONS);
  return path;
}

/** qemu's view of a LUKS image: its decrypted payload. */
function imageOpts(image: string): string {
  return `driver=luks,key-secret=sec0,file.filename=${image}`;
}

/** Writes `bytes` into the payload of `image` at 0 through qemu's LUKS driver. */
export function fillLuks(image: string, bytes: Uint8Array): void {
  const source = `${image}.source`;
  writeFileSync(source, bytes);
  qemuImg([
    "convert",
    "-n",
    "--object",
    SECRET,
    "-f",
    "raw",
    source,
    "--target-image-opts",
    imageOpts(image),
  ]);
}

/** The decrypted payload of `image`, as qemu reads it. */
export function readLuks(image: string): Uint8Array {
  const out = `${image}.plain`;
  qemuImg(["convert", "--object", SECRET, "--image-opts", imageOpts(image), "-O", "raw", out]);
  return readFileSync(out);
}
