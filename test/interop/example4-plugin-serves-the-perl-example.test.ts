/**
 * The example4 plugin (nbdkit's example written in Perl, plugins/example4/example4.pl): one RAM
 * disk of size=<N> bytes, zero at first, shared by every client. The script has a pwrite sub,
 * but nbdkit's Perl plugin looks for one named "write", so nbdkit serves it read-only, and so do
 * we. nbdkit runs it with its Perl plugin; where that is not installed the nbdkit run of each
 * test is skipped, saying so.
 */

import { describe, expect, test } from "vitest";
import { captive, expectSuccess, runServer } from "../helpers/captive.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, type Server, servers, type SkippableContext } from "../helpers/servers.ts";

/** Skips the test when `server` cannot load example4 (nbdkit without nbdkit-perl-plugin). */
async function requireExample4(server: Server, context: SkippableContext): Promise<void> {
  const result = await runServer(server, ["example4", "--dump-plugin"]);
  if (result.status !== 0 && /perl/.test(result.stderr)) {
    context.skip(`${server.name} cannot load example4: its Perl plugin is not installed`);
  }
}

describe.each(servers)("example4 plugin serves the Perl example ($name)", (server) => {
  test("example4 serves a disk of zeroes, read-only as nbdkit serves the Perl script", async (context) => {
    requireClients(context, "nbdsh");
    await requireExample4(server, context);
    const result = await libnbd(
      server,
      ["example4", "size=1048576"],
      `
      h = connect()
      h.set_strict_mode(0)
      report(size=h.get_size(), zero=bytes(h.pread(1024 * 1024, 0)) == bytes(1024 * 1024),
             read_only=h.is_read_only(), write=outcome(lambda: h.pwrite(b"x", 0)),
             flush=h.can_flush(), trim=h.can_trim(), zero_cmd=h.can_zero(),
             multi_conn=h.can_multi_conn(), cache=h.can_cache())
    `,
    );
    expect(result).toEqual({
      size: 1048576,
      zero: true,
      read_only: true,
      write: "EPERM",
      flush: false,
      trim: false,
      zero_cmd: false,
      multi_conn: false,
      cache: false,
    });
  });

  test("size is read as Perl's int() reads it: no suffixes, fractions cut off", async (context) => {
    requireClients(context, "nbdinfo");
    await requireExample4(server, context);
    const sizes = [];
    for (const size of ["4096", "1M", "2.9", " 77"]) {
      const { stdout } = expectSuccess(
        await captive(server, ["example4", `size=${size}`], 'nbdinfo --size "$uri"'),
      );
      sizes.push(Number(stdout.trim()));
    }
    expect(sizes).toEqual([4096, 1, 2, 77]);
  });

  test("example4 refuses to start without a size or with an unknown parameter", async (context) => {
    await requireExample4(server, context);
    const missing = await captive(server, ["example4"], "true");
    const unknown = await captive(server, ["example4", "size=1", "colour=blue"], "true");
    expect([missing.status, unknown.status]).toEqual([1, 1]);
    expect(missing.stderr).toMatch(/size was not set/);
    expect(unknown.stderr).toMatch(/unknown parameter colour/);
  });

  test("example4 names its extra in --dump-plugin", async (context) => {
    await requireExample4(server, context);
    const result = expectSuccess(await runServer(server, ["example4", "--dump-plugin"]));
    expect(result.stdout).toMatch(/^example4_extra=hello$/m);
  });
});
