/**
 * qemu-img as a TLS client of a captive server: its --object tls-creds-… for a certificate
 * directory or a psktool key directory, the image options that point it at the socket, and
 * the two runs the tests make (info; a copy in and back out).
 */

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { captive, expectSuccess, type RunResult, scratchDir } from "./captive.ts";
import type { Server } from "./servers.ts";

/** Client credentials: X.509 from `dir` (ca-cert.pem, client-*.pem), or user's key in dir/keys.psk. */
export type QemuCredentials = { x509: string } | { pskDir: string; user: string };

/** The --object option for `credentials`, with id tls0. */
export function qemuCredentials(credentials: QemuCredentials): string {
  return "x509" in credentials
    ? `--object tls-creds-x509,id=tls0,dir=${credentials.x509},endpoint=client`
    : `--object tls-creds-psk,id=tls0,dir=${credentials.pskDir},username=${credentials.user},endpoint=client`;
}

/**
 * Image options for the captive socket ($unixsocket) over tls0, in double quotes for the
 * shell. A Unix socket has no host name, so X.509 is told to check the certificate's.
 */
export function qemuImage(credentials: QemuCredentials): string {
  const hostname = "x509" in credentials ? ",tls-hostname=localhost" : "";
  return `"driver=nbd,path=$unixsocket,tls-creds=tls0${hostname}"`;
}

/** `qemu-img info` of a captive `server` (1 MiB memory disk) started with `serverOptions`. */
export function qemuImgInfo(
  server: Server,
  credentials: QemuCredentials,
  serverOptions: string[],
): Promise<RunResult> {
  const script = `qemu-img info ${qemuCredentials(credentials)} --image-opts ${
    qemuImage(credentials)
  }`;
  return captive(server, ["memory", "1M"], script, { serverOptions });
}

/**
 * qemu-img info, then converts `content` into a captive memory disk of its size and back out
 * of it. Returns the bytes that came back and qemu-img's output; fails when any step does.
 */
export async function qemuRoundTrip(
  server: Server,
  credentials: QemuCredentials,
  serverOptions: string[],
  content: Uint8Array,
): Promise<{ back: Uint8Array; stdout: string }> {
  const dir = scratchDir();
  const original = join(dir, "original.bin");
  const copy = join(dir, "copy.bin");
  writeFileSync(original, content);
  const creds = qemuCredentials(credentials);
  const image = qemuImage(credentials);
  const script = [
    `qemu-img info ${creds} --image-opts ${image}`,
    `qemu-img convert -n -f raw ${original} ${creds} --target-image-opts ${image}`,
    `qemu-img convert ${creds} --image-opts ${image} -O raw ${copy}`,
  ].join(" && ");
  const plugin = ["memory", String(content.length)];
  const { stdout } = expectSuccess(await captive(server, plugin, script, { serverOptions }));
  return { back: new Uint8Array(readFileSync(copy)), stdout };
}
