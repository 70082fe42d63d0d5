/**
 * What --dump-config prints: nbdkit's keys, sorted as nbdkit prints them, with the values of
 * the nbdkit release whose behaviour nbdts matches, plus `runtime=` naming the JavaScript
 * runtime. Keys for paths nbdts does not have (plugindir, libdir, …) are left out.
 */

import { ROOT_CERTIFICATES_DIR } from "../tls/tls-credentials.ts";
import { PROGRAM_NAME } from "./program-name.ts";

/** The nbdkit release whose command line and wire behaviour nbdts follows. */
export const NBDKIT_VERSION = { major: 1, minor: 32 } as const;

/**
 * `key=value` lines; `version` is nbdts's own, the major/minor those of nbdkit it matches.
 * `tls` says whether the runtime can serve TLS (nbdkit: whether it was built with GnuTLS).
 */
export function dumpConfigText(version: string, runtime: string, tls: boolean): string {
  const config: Record<string, string> = {
    exit_with_parent: "yes",
    name: PROGRAM_NAME,
    root_tls_certificates_dir: ROOT_CERTIFICATES_DIR,
    runtime,
    selinux: "no",
    tls: tls ? "yes" : "no",
    version,
    version_major: String(NBDKIT_VERSION.major),
    version_minor: String(NBDKIT_VERSION.minor),
    zstd: "no",
  };
  return Object.entries(config).map(([key, value]) => `${key}=${value}\n`).join("");
}
