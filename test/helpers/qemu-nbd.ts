/**
 * Starts qemu-nbd, a third NBD server besides nbdkit and nbdts, serving a raw image on a private
 * Unix socket (persistent, several clients at once) until the test finishes.
 */

import { spawn } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { onTestFinished } from "vitest";
import { clientEnv, killGroup, scratchDir } from "./captive.ts";

export interface QemuNbd {
  readonly uri: string;
  readonly socket: string;
  readonly image: string;
}

/**
 * qemu-nbd serving a zeroed raw image of `size` bytes; `readOnly` adds -r; `extra` options go
 * before the image (TLS: `--object tls-creds-x509,… --tls-creds …`).
 */
export async function startQemuNbd(
  size: number,
  readOnly = false,
  extra: readonly string[] = [],
): Promise<QemuNbd> {
  const dir = scratchDir();
  const image = join(dir, "disk.raw");
  const socket = join(dir, "sock");
  writeFileSync(image, new Uint8Array(size));
  const args = [
    ...["-k", socket, "-f", "raw", "-t", "-e", "8"],
    ...(readOnly ? ["-r"] : []),
    ...extra,
    image,
  ];
  const child = spawn("qemu-nbd", args, {
    env: clientEnv(),
    stdio: ["ignore", "ignore", "inherit"],
    detached: true,
  });
  onTestFinished(() => killGroup(child.pid, "SIGKILL"));
  for (let waited = 0; !existsSync(socket); waited += 10) {
    if (waited > 10_000 || child.exitCode !== null) throw new Error("qemu-nbd did not start");
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return { uri: `nbd+unix:///?socket=${socket}`, socket, image };
}
