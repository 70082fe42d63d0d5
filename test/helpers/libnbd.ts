/**
 * Runs a Python libnbd script against a captive server and returns what it reported, so a
 * test can drive the NBD client library yet keep its assertions in TypeScript. Never judges
 * the result itself: a failing script throws with its traceback, values go back as JSON.
 */

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { captive, type CaptiveOptions, describeEnd, scratchDir, shellQuote } from "./captive.ts";
import type { Server } from "./servers.ts";

/**
 * Helpers every script starts with:
 * - `uri`, `unixsocket`: the captive server's URI and socket (the runner exports them, since
 *   --run does not).
 * - `connect(setup=None, export=None)`: a new connected handle; `setup(h)` runs first. Without
 *   `export` it connects to `uri`; with it, to `unixsocket` asking for that export name (a URI
 *   would override the name).
 * - `connect_tls(query, user=None)`: a handle connected with TLS (nbds+unix://) to the captive
 *   socket, `query` naming the client's credentials ("tls-certificates=DIR", "tls-psk-file=F").
 * - `outcome(action)`: "ok", or the errno name libnbd reports ("EINVAL", "ENOSPC" …).
 * - `extents(h, count, offset, flags=0)`: base:allocation block status as [[length, flags], …].
 * - `report(**values)`: print the JSON object the test receives.
 */
const PRELUDE = `
import json, os, sys
import nbd

uri = os.environ["uri"]
unixsocket = os.environ["unixsocket"]

def connect(setup=None, export=None):
    h = nbd.NBD()
    if setup is not None:
        setup(h)
    if export is None:
        h.connect_uri(uri)
    else:
        h.set_export_name(export)
        h.connect_unix(unixsocket)
    return h

def connect_tls(query, user=None):
    h = nbd.NBD()
    h.set_uri_allow_local_file(True)  # the query names local files
    at = "" if user is None else user + "@"
    h.connect_uri("nbds+unix://%s/?socket=%s&%s" % (at, unixsocket, query))
    return h

def outcome(action):
    try:
        action()
        return "ok"
    except nbd.Error as e:
        return e.errno or ("errnum %d: %s" % (e.errnum, e.string))

def extents(h, count, offset, flags=0):
    found = []
    def collect(metacontext, start, entries, err):
        if metacontext == nbd.CONTEXT_BASE_ALLOCATION:
            found.extend([entries[i], entries[i + 1]] for i in range(0, len(entries), 2))
        return 0
    h.block_status(count, offset, collect, flags)
    return found

def report(**values):
    print(json.dumps(values))
    sys.stdout.flush()

# ---- test body ----
`;

/** A JSON value a script reported with `report(...)`. */
export type Reported = Record<string, unknown>;

/**
 * Runs `body` (Python, after the prelude above) inside `<server> -U - [options] <plugin…>
 * --run`, and returns the object printed by its last `report(...)`. Throws, with the
 * script's output, when the script or the server fails.
 */
export async function libnbd<T extends Reported = Reported>(
  server: Server,
  plugin: readonly string[],
  body: string,
  options: CaptiveOptions = {},
): Promise<T> {
  const script = join(scratchDir(), "test.py");
  writeFileSync(script, PRELUDE + dedent(body));
  const result = await captive(
    server,
    plugin,
    `uri="$uri" unixsocket="$unixsocket" exec python3 ${shellQuote(script)}`,
    options,
  );
  const lines = result.stdout.trim().split("\n");
  if (result.status !== 0 || result.timedOut) {
    throw new Error(
      `libnbd script failed: ${
        describeEnd(result)
      }\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`,
    );
  }
  const last = lines.at(-1) ?? "";
  try {
    return JSON.parse(last) as T;
  } catch {
    throw new Error(
      `libnbd script reported no JSON on its last line:\n${result.stdout}\n--- stderr ---\n${result.stderr}`,
    );
  }
}

/** A Python list literal for an argv, e.g. for `h.connect_command(…)`. */
export function pythonList(argv: readonly string[]): string {
  return JSON.stringify(argv);
}

/** Removes the common leading indentation, so scripts can be indented inside template literals. */
export function dedent(text: string): string {
  const lines = text.replace(/^\n/, "").split("\n");
  const indents = lines.filter((line) => line.trim() !== "").map((line) =>
    /^ */.exec(line)![0].length
  );
  const cut = indents.length === 0 ? 0 : Math.min(...indents);
  return lines.map((line) => line.slice(cut)).join("\n") + "\n";
}
