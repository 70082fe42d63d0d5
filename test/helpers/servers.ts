/**
 * The NBD servers an interop test runs against, as data, and the rule for skipping a test
 * whose client program is missing. Never starts a process itself.
 *
 * `NBD_SERVERS=nbdkit` or `NBD_SERVERS=nbdts-node,nbdkit` picks servers by name; unset, every
 * server below runs (nbdkit only when it is installed). `NBD_REQUIRE_CLIENTS=1` turns a
 * missing client from a skip into a failure, as CI wants.
 */

import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { fileURLToPath } from "node:url";

/** One server under test: a name for test titles and the argv that starts it. */
export interface Server {
  readonly name: string;
  readonly argv: readonly string[];
}

/** The repository root, two levels above this file. */
export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/**
 * PATH for every client subprocess: /usr/bin first, because nbdsh and python3-libnbd need
 * Debian's python3, not an earlier pyenv one that lacks the nbd module; only $QEMU_DIR comes
 * before it, so that QEMU_DIR=/opt/qemu10/usr/bin runs every qemu test with that qemu. /usr/sbin
 * comes last, for tools Debian puts there (cryptsetup), whatever PATH the tests run with.
 */
export const CLIENT_PATH = [
  process.env.QEMU_DIR ?? "",
  "/usr/bin",
  "/bin",
  process.env.PATH ?? "",
  "/usr/sbin",
  "/sbin",
].filter((dir, i) => i > 0 || dir !== "").join(delimiter);

/** Full path of `program` on CLIENT_PATH, or undefined when it is not installed. */
export function findProgram(program: string): string | undefined {
  if (program.includes("/")) return isExecutable(program) ? program : undefined;
  for (const dir of CLIENT_PATH.split(delimiter)) {
    if (dir === "") continue;
    const candidate = join(dir, program);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The Deno and Bun executables installed by npm (the `deno` and `bun` dev dependencies). */
const DENO = join(REPO_ROOT, "node_modules", ".bin", "deno");
const BUN = join(REPO_ROOT, "node_modules", ".bin", "bun");

/**
 * Every server we know how to start. `available` says whether it can run here without being
 * asked for by name (nbdkit, deno and bun must be installed; Node always runs, so a missing
 * bundle fails). Deno and Bun run the TypeScript sources as they are; Node runs the bundle.
 */
export const KNOWN_SERVERS: readonly (Server & { readonly available: boolean })[] = [
  { name: "nbdts-node", argv: [process.execPath, join(REPO_ROOT, "nbd.js")], available: true },
  {
    name: "nbdts-deno",
    argv: [DENO, "run", "-A", "--quiet", join(REPO_ROOT, "nbd.ts")],
    available: findProgram(DENO) !== undefined,
  },
  {
    name: "nbdts-bun",
    argv: [BUN, join(REPO_ROOT, "nbd.ts")],
    available: findProgram(BUN) !== undefined,
  },
  { name: "nbdkit", argv: ["nbdkit"], available: findProgram("nbdkit") !== undefined },
];

/** The servers selected by `NBD_SERVERS`, or every available one when it is unset. */
export function selectServers(selection = process.env.NBD_SERVERS): Server[] {
  if (selection === undefined || selection.trim() === "") {
    return KNOWN_SERVERS.filter((server) => server.available).map(({ name, argv }) => ({
      name,
      argv,
    }));
  }
  return selection.split(",").map((raw) => {
    const name = raw.trim();
    const server = KNOWN_SERVERS.find((known) => known.name === name);
    if (!server) {
      const names = KNOWN_SERVERS.map((known) => `"${known.name}"`).join(", ");
      throw new Error(
        `Cannot select server "${name}" from NBD_SERVERS: known servers are ${names}`,
      );
    }
    return { name: server.name, argv: server.argv };
  });
}

/** The servers every interop test runs against: `describe.each(servers)("…", (server) => …)`. */
export const servers: Server[] = selectServers();

/** The part of vitest's test context that `requireClients` needs. */
export interface SkippableContext {
  skip(note?: string): never;
}

/**
 * Skips the running test when a client program is missing, naming it (nbdkit's `requires`);
 * with NBD_REQUIRE_CLIENTS=1 a missing client fails the test instead.
 */
export function requireClients(context: SkippableContext, ...programs: string[]): void {
  const missing = programs.filter((program) => findProgram(program) === undefined);
  if (missing.length === 0) return;
  const message = `requires ${missing.join(", ")}, which is not installed`;
  if (process.env.NBD_REQUIRE_CLIENTS === "1") {
    throw new Error(`Cannot run test: ${message} (NBD_REQUIRE_CLIENTS=1)`);
  }
  context.skip(message);
}
