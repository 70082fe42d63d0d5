/**
 * Who the program says it is: nbdts, or nbdkit 1.32.5 when started under the name `nbdkit` (a
 * link or wrapper script of that name), so that scripts gating on nbdkit's identity run it.
 */

import { VERSION } from "../api/version.ts";

/** The program's own name; every message and help text takes the name from an Identity. */
export const PROGRAM_NAME = "nbdts";

/** The nbdkit release whose command line and wire behaviour nbdts follows. */
export const NBDKIT_RELEASE = "1.32.5";

/** The name under which nbdts answers as nbdkit. */
const NBDKIT_NAME = "nbdkit";

export interface Identity {
  /** What nbdkit calls `program_name`: the first word of every message ("nbdts: …"). */
  readonly name: string;
  /** What --dump-config gives as `version`: nbdts's own, or the nbdkit release. */
  readonly version: string;
  /** The first line of --version: "nbdts 0.1.0", or "nbdkit 1.32.5 (nbdts 0.1.0)". */
  readonly versionLine: string;
  /** The absolute directory of the command that started the program (`bindir`). */
  readonly bindir: string;
}

/** The identity for a program started as `programPath` (Runtime.programPath) from `cwd`. */
export function identify(programPath: string, cwd: string): Identity {
  const parts = normalPath(programPath.startsWith("/") ? programPath : `${cwd}/${programPath}`);
  const base = parts.pop();
  const bindir = `/${parts.join("/")}`;
  if (base === NBDKIT_NAME) {
    const versionLine = `${NBDKIT_NAME} ${NBDKIT_RELEASE} (${PROGRAM_NAME} ${VERSION})`;
    return { name: NBDKIT_NAME, version: NBDKIT_RELEASE, versionLine, bindir };
  }
  return {
    name: PROGRAM_NAME,
    version: VERSION,
    versionLine: `${PROGRAM_NAME} ${VERSION}`,
    bindir,
  };
}

/** The parts of an absolute path, "." and ".." resolved by name (links are not followed). */
function normalPath(path: string): string[] {
  const parts: string[] = [];
  for (const part of path.split("/")) {
    if (part === "..") parts.pop();
    else if (part !== "" && part !== ".") parts.push(part);
  }
  return parts;
}

/** A user-facing error line, as nbdkit prints one to stderr: `nbdts: message`. */
export function errorLine(message: string, program: string = PROGRAM_NAME): string {
  return `${program}: ${message}`;
}
