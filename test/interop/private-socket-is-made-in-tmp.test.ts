/**
 * `-U -` makes its private socket's directory in /tmp whatever $TMPDIR says, as nbdkit does
 * (its template is "/tmp/nbdkitXXXXXX"): a TMPDIR naming a directory that does not exist, as in
 * a stripped-down container or a test harness that removed it, still serves.
 */

import { describe, expect, test } from "vitest";
import { captive, expectSuccess } from "../helpers/captive.ts";
import { servers } from "../helpers/servers.ts";

describe.each(servers)("-U - with a TMPDIR that does not exist ($name)", (server) => {
  test("serves on a socket under /tmp", async () => {
    const result = await captive(
      server,
      ["memory", "1M"],
      'echo "$unixsocket"; nbdinfo --size "$uri"',
      { env: { TMPDIR: "/nonexistent-tmpdir" } },
    );
    const [socket, size] = expectSuccess(result).stdout.trim().split("\n");
    expect(socket).toMatch(/^\/tmp\/[^/]+\/socket$/);
    expect(size).toBe("1048576");
  });
});
