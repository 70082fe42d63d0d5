/**
 * What --dump-config prints: nbdkit's keys, sorted as nbdkit prints them, for the identity the
 * program answers as (nbdts, or nbdkit 1.32.5 under that name), plus `runtime=` naming the
 * JavaScript runtime and `nbdts_version=` and `nbdkit_version=` naming both releases whatever the
 * name. Keys for paths nbdts does not have (plugindir, libdir, …) are left out.
 */

import { VERSION } from "../api/version.ts";
import { ROOT_CERTIFICATES_DIR } from "../tls/tls-credentials.ts";
import { type Identity, NBDKIT_RELEASE } from "./program-name.ts";

/**
 * `key=value` lines; `version`, `version_major` and `version_minor` always agree, as scripts
 * compare them. `tls` says whether the runtime can serve TLS (nbdkit: built with GnuTLS).
 */
export function dumpConfigText(identity: Identity, runtime: string, tls: boolean): string {
  const [major, minor] = identity.version.split(".");
  const config: Record<string, string> = {
    bindir: identity.bindir,
    exit_with_parent: "yes",
    name: identity.name,
    nbdkit_version: NBDKIT_RELEASE,
    nbdts_version: VERSION,
    root_tls_certificates_dir: ROOT_CERTIFICATES_DIR,
    runtime,
    selinux: "no",
    tls: tls ? "yes" : "no",
    version: identity.version,
    version_major: major!,
    version_minor: minor!,
    zstd: "no",
  };
  return Object.entries(config).map(([key, value]) => `${key}=${value}\n`).join("");
}
