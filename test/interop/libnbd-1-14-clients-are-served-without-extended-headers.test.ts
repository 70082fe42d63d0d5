/**
 * Clients that never ask for extended headers (libnbd 1.14's nbdinfo and nbdsh) are served as
 * before: the server offers nothing they did not ask for, negotiates structured replies, and
 * answers writes, zeroes, trims, reads and block status past 4 GiB on an 8 GiB disk exactly as
 * nbdkit does. With -v nbdts says nothing of extended headers for them.
 */

import { describe, expect, test } from "vitest";
import { captive, expectSuccess } from "../helpers/captive.ts";
import { requireClients, servers } from "../helpers/servers.ts";

const GiB = 1024 ** 3;

/** nbdsh: requests at and past 4 GiB, each at most 1 GiB, then the map; one JSON line out. */
const NBDSH = `
import json
out = {"protocol": h.get_protocol(), "structured": h.get_structured_replies_negotiated()}
h.pwrite(b"\\x5a" * 65536, ${5 * GiB})
h.pwrite(b"\\xa5" * 65536, ${4 * GiB - 32768})
h.zero(${GiB}, ${6 * GiB})
h.trim(${GiB}, ${7 * GiB})
out["read"] = [h.pread(65536, ${5 * GiB}).count(b"\\x5a"), h.pread(65536, ${4 * GiB}).hex()[:8]]
extents = []
def got(metacontext, offset, entries, err):
    extents.append([offset, entries])
    return 0
at = 0
while at < ${8 * GiB}:
    before = len(extents)
    h.block_status(min(${8 * GiB} - at, ${4 * GiB - 4096}), at, got)
    at += sum(extents[before][1][0::2])
out["extents"] = extents
print(json.dumps(out))
`;

describe.each(servers)("libnbd 1.14 clients without extended headers ($name)", (server) => {
  test("nbdsh writes, zeroes, trims, reads and maps past 4 GiB as against nbdkit", async (context) => {
    requireClients(context, "nbdsh", "nbdkit");
    const script = `nbdsh --base-allocation -u "$uri" -c '${NBDSH.replaceAll("'", `'\\''`)}'`;
    const ours = expectSuccess(
      await captive(server, ["memory", "8G"], script, { serverOptions: ["-v"] }),
    );
    const reference = expectSuccess(
      await captive({ name: "nbdkit", argv: ["nbdkit"] }, ["memory", "8G"], script),
    );
    const answer = JSON.parse(ours.stdout);
    expect(answer).toEqual(JSON.parse(reference.stdout));
    expect(answer).toMatchObject({
      protocol: "newstyle-fixed",
      structured: true,
      read: [65536, "a5a5a5a5"],
    });
    expect(ours.stderr).not.toMatch(/extended headers|EXTENDED_HEADERS/);
  });

  test("nbdinfo --json says the same as against nbdkit", async (context) => {
    requireClients(context, "nbdinfo", "nbdkit");
    const script = 'nbdinfo --json "$uri"';
    const ours = expectSuccess(
      await captive(server, ["memory", "8G"], script, { serverOptions: ["-v"] }),
    );
    const reference = expectSuccess(
      await captive({ name: "nbdkit", argv: ["nbdkit"] }, ["memory", "8G"], script),
    );
    const info = (stdout: string) => {
      const { exports, ...rest } = JSON.parse(stdout);
      const { uri: _uri, ...described } = exports[0];
      return { ...rest, exports: [described] };
    };
    expect(info(ours.stdout)).toEqual(info(reference.stdout));
    expect(ours.stderr).not.toMatch(/extended headers|EXTENDED_HEADERS/);
  });
});
