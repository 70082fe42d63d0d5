/**
 * Started under the name `nbdkit`, the server passes the checks scripts make of nbdkit: its
 * --version starts with "nbdkit 1.", its --dump-config's version, version_major and
 * version_minor agree and bindir holds the command, its messages start with "nbdkit:", and it
 * serves. Each server is installed in a fresh directory put first on PATH (ahead of the real
 * /usr/bin/nbdkit) the way the README says: Node through a link to nbd.js (what `npm install
 * -g` makes), Deno and Bun through a two-line wrapper script, nbdkit through a link to itself.
 */

import { symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { expectSuccess, run, scratchDir, shellQuote } from "../helpers/captive.ts";
import { dedent } from "../helpers/libnbd.ts";
import {
  CLIENT_PATH,
  findProgram,
  REPO_ROOT,
  requireClients,
  type Server,
  servers,
} from "../helpers/servers.ts";

/** A directory holding an `nbdkit` command that runs `server`, as the README shows. */
function installAsNbdkit(server: Server): string {
  const bin = scratchDir();
  const command = join(bin, "nbdkit");
  if (server.name === "nbdkit") symlinkSync(findProgram("nbdkit")!, command);
  else if (server.name === "nbdts-node") symlinkSync(join(REPO_ROOT, "nbd.js"), command);
  else {
    const argv = server.argv.map(shellQuote).join(" ");
    writeFileSync(command, `#!/bin/sh\nNBDTS_ARGV0="$0" exec ${argv} "$@"\n`, { mode: 0o755 });
  }
  return bin;
}

/** What a script written for nbdkit checks before using it; prints the facts it read. */
const NBDKIT_SCRIPT = dedent(`
  set -e
  nbdkit --version | grep -q '^nbdkit 1\\.'
  eval "$(nbdkit --dump-config | grep -E '^(bindir|version|version_major|version_minor)=')"
  test "\${version%.*}" = "$version_major.$version_minor"
  test "$version_major" -eq 1 && test "$version_minor" -ge 32
  test -x "$bindir/nbdkit"
  echo "version: $(nbdkit --version)"
  echo "bindir: $bindir"
  echo "size: $(nbdkit -U - memory 1M --run 'nbdinfo --size "$uri"')"
  echo "error: $(nbdkit --no-such-option 2>&1 >/dev/null | head -n 1)"
`);

describe.each(servers)("scripts for nbdkit run it under that name ($name)", (server) => {
  test("an nbdkit-style script finds nbdkit 1.32 on PATH and serves with it", async (context) => {
    requireClients(context, "nbdinfo");
    const bin = installAsNbdkit(server);
    const result = expectSuccess(
      await run(["/bin/sh", "-c", NBDKIT_SCRIPT], { env: { PATH: `${bin}:${CLIENT_PATH}` } }),
    );
    const facts = new Map(
      result.stdout.trimEnd().split("\n").map((line) => {
        const at = line.indexOf(": ");
        return [line.slice(0, at), line.slice(at + 2)];
      }),
    );
    const ours = server.name !== "nbdkit";
    expect(facts.get("version")).toMatch(
      ours ? /^nbdkit 1\.32\.5 \(nbdts \d+\.\d+\.\d+\)$/ : /^nbdkit 1\.32\.5$/,
    );
    if (ours) expect(facts.get("bindir")).toBe(bin);
    expect(facts.get("size")).toBe("1048576");
    expect(facts.get("error")).toMatch(/^nbdkit: /);
  });
});
