/**
 * What the filter interop tests ask of a server again and again: the block-status map a
 * command line serves (`nbdinfo --map --json`), the error that refuses an export or a start,
 * a filter's --help text, and a libnbd snippet reporting the export's flags.
 */

import { expect } from "vitest";
import { captive, expectSuccess, runServer } from "./captive.ts";
import type { MapEntry } from "./extents.ts";
import { dedent } from "./libnbd.ts";
import type { Server } from "./servers.ts";

/** What `flags(h)` reports for a plugin that can do everything (data, memory, file). */
export const ALL_FLAGS = {
  read_only: false,
  flush: true,
  fua: true,
  multi_conn: true,
  trim: true,
  zero: true,
  fast_zero: true,
  cache: true,
} as const;

/** What `flags(h)` reports for such a plugin served with -r: flush, multi-conn and cache. */
export const READ_ONLY_FLAGS = {
  ...ALL_FLAGS,
  read_only: true,
  fua: false,
  trim: false,
  zero: false,
  fast_zero: false,
} as const;

/** What `flags(h)` reports for the pattern plugin: read-only, multi-conn and cache. */
export const PATTERN_FLAGS = { ...READ_ONLY_FLAGS, flush: false } as const;

/** A libnbd script body with `flags(h)` defined first: what the server advertised, by name. */
export function withFlags(body: string): string {
  return `
def flags(h):
    return dict(read_only=h.is_read_only(), flush=h.can_flush(), fua=h.can_fua(),
                multi_conn=h.can_multi_conn(), trim=h.can_trim(), zero=h.can_zero(),
                fast_zero=h.can_fast_zero(), cache=h.can_cache())

${dedent(body)}`;
}

/** The map `nbdinfo --map --json` prints for the export `args` serves. */
export async function mapOf(server: Server, args: readonly string[]): Promise<MapEntry[]> {
  const { stdout } = expectSuccess(await captive(server, args, 'nbdinfo --map --json "$uri"'));
  return JSON.parse(stdout) as MapEntry[];
}

/**
 * The export `args` serves is refused when a client opens it: nbdinfo fails, and what the
 * server logged (its stderr) is returned to check the message.
 */
export async function refusedExport(server: Server, args: readonly string[]): Promise<string> {
  const result = await captive(server, args, 'nbdinfo --size "$uri"');
  expect(result.status).not.toBe(0);
  expect(result.stderr).toContain("server has no export named ''");
  return result.stderr;
}

/** The server refuses to start with `args`: exit status 1, and its stderr is returned. */
export async function refusedStart(server: Server, args: readonly string[]): Promise<string> {
  const result = await captive(server, args, "true");
  expect(result.status).toBe(1);
  return result.stderr;
}

/** The parameter lines --help shows for `--filter=NAME` (between its title and the plugin's). */
export async function filterHelp(server: Server, name: string): Promise<string> {
  const { stdout } = expectSuccess(await runServer(server, [`--filter=${name}`, "null", "--help"]));
  const start = stdout.indexOf(`filter: ${name} (`);
  const end = stdout.indexOf("\nplugin: ", start);
  // Skip the title line and, when there is one, the "(path)" line that follows it.
  return stdout.slice(start, end).split("\n").slice(1).filter((line) => !line.startsWith("("))
    .join("\n").trim();
}
