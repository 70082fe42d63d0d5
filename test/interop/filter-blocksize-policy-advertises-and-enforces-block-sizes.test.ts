/**
 * --filter=blocksize-policy (man nbdkit-blocksize-policy-filter) advertises the block sizes it
 * is given, or the plugin's, or defaults, and with blocksize-error-policy=error refuses with
 * EINVAL the requests that break them before the plugin (a logging plugin, the same on either
 * server) sees them: the same sizes, errors, plugin calls and start-up refusals as nbdkit. Two
 * differences: the maximum advertised for "no limit" is capped at the payload limit, 64 MiB
 * (nbdkit says 4294967295), and blocksize-write-disconnect is nbdkit 1.34's, which 1.32.5
 * lacks (its test runs against nbdts alone).
 */

import { describe, expect, test } from "vitest";
import { captive, expectSuccess } from "../helpers/captive.ts";
import { refusedStart } from "../helpers/filters.ts";
import { dedent, libnbd } from "../helpers/libnbd.ts";
import { logPlugin } from "../helpers/log-plugin.ts";
import { requireClients, type Server, servers } from "../helpers/servers.ts";

const noLimit = (server: Server) => server.name === "nbdkit" ? 0xffffffff : 64 * 1024 * 1024;

const SIZES = `
def sizes(h):
    return [h.get_block_size(nbd.SIZE_MINIMUM), h.get_block_size(nbd.SIZE_PREFERRED),
            h.get_block_size(nbd.SIZE_MAXIMUM)]
`;

/** The sizes a client is told for `args` in front of the memory plugin. */
async function advertised(server: Server, args: readonly string[]): Promise<number[]> {
  const result = await libnbd(
    server,
    ["--filter=blocksize-policy", "memory", "1M", ...args],
    SIZES + dedent(`
      report(sizes=sizes(connect()))
    `),
  );
  return result.sizes as number[];
}

describe.each(servers)("blocksize-policy filter ($name)", (server) => {
  test("the sizes given are advertised, defaults fill in the rest", async (context) => {
    requireClients(context, "nbdsh");
    expect(await advertised(server, ["blocksize-preferred=32K"])).toEqual([
      1,
      32768,
      noLimit(server),
    ]);
    expect(await advertised(server, ["blocksize-minimum=512", "blocksize-maximum=1M"])).toEqual([
      512,
      4096,
      1024 * 1024,
    ]);
    expect(
      await advertised(server, [
        "blocksize-minimum=4k",
        "blocksize-preferred=64k",
        "blocksize-maximum=16M",
      ]),
    ).toEqual([4096, 65536, 16 * 1024 * 1024]);
  });

  test("the plugin's sizes are kept where none is given", async (context) => {
    requireClients(context, "nbdsh");
    const plugin = logPlugin(server, { params: ["block-size=512,8192,1048576"] });
    const result = await libnbd(
      server,
      ["--filter=blocksize-policy", ...plugin.argv, "blocksize-minimum=4096"],
      SIZES + dedent(`
        report(sizes=sizes(connect()))
      `),
    );
    expect(result.sizes).toEqual([4096, 8192, 1024 * 1024]);
  });

  test("error policy: requests breaking the sizes get EINVAL and never reach the plugin", async (context) => {
    requireClients(context, "nbdsh");
    const plugin = logPlugin(server);
    const policy = ["blocksize-minimum=512", "blocksize-maximum=64K"];
    const script = `
      h = nbd.NBD()
      h.set_strict_mode(0)  # send what a badly behaved client would
      h.connect_uri(uri)
      report(small=outcome(lambda: h.pread(100, 0)),
             unaligned=outcome(lambda: h.pread(512, 100)),
             ragged=outcome(lambda: h.pwrite(b"x" * 700, 0)),
             large=outcome(lambda: h.pread(128 * 1024, 0)),
             large_zero=outcome(lambda: h.zero(128 * 1024, 0)),
             small_trim=outcome(lambda: h.trim(100, 512)),
             small_cache=outcome(lambda: h.cache(100, 512)),
             good=outcome(lambda: h.pread(1024, 512)))
    `;
    const result = await libnbd(
      server,
      ["--filter=blocksize-policy", ...plugin.argv, ...policy, "blocksize-error-policy=error"],
      script,
    );
    expect(result).toEqual({
      small: "EINVAL",
      unaligned: "EINVAL",
      ragged: "EINVAL",
      large: "EINVAL",
      large_zero: "ok", // the maximum bounds reads and writes only
      small_trim: "EINVAL",
      small_cache: "EINVAL",
      good: "ok",
    });
    expect(plugin.lines()).toEqual(["zero 131072 0 may_trim", "pread 1024 512"]);

    const allowing = logPlugin(server);
    const allowed = await libnbd(
      server,
      ["--filter=blocksize-policy", ...allowing.argv, ...policy],
      script,
    );
    expect(Object.values(allowed).every((outcome) => outcome === "ok")).toBe(true);
    expect(allowing.lines()).toHaveLength(8);
  });

  test("a refused request is logged with the reason", async (context) => {
    requireClients(context, "nbdsh");
    const plugin = logPlugin(server);
    const args = ["--filter=blocksize-policy", ...plugin.argv, "blocksize-minimum=512"];
    const result = expectSuccess(
      await captive(
        server,
        [...args, "blocksize-error-policy=error"],
        `nbdsh -u "$uri" -c 'h.set_strict_mode(0)' -c '
try:
    h.pread(100, 1024)
except nbd.Error as e:
    print(e.errno)'`,
      ),
    );
    expect(result.stdout.trim()).toBe("EINVAL");
    expect(result.stderr).toContain(
      "error: client pread request rejected: count 100 is smaller than minimum size 512",
    );
  });

  test("bad parameters are refused at start-up with nbdkit's messages", async () => {
    const args = ["--filter=blocksize-policy", "memory", "1M"];
    const refused = (...more: string[]) => refusedStart(server, [...args, ...more]);
    expect(await refused("blocksize-error-policy=maybe")).toContain(
      "unknown blocksize-error-policy: maybe",
    );
    expect(await refused("blocksize-minimum=x")).toContain("blocksize-minimum: could not parse x");
    expect(await refused("blocksize-maximum=4G")).toContain(
      "blocksize-maximum: could not parse 4G",
    );
    expect(await refused("blocksize-minimum=3")).toContain(
      "blocksize-minimum must be a power of 2",
    );
    expect(await refused("blocksize-minimum=128K")).toContain("blocksize-minimum must be <= 64K");
    expect(await refused("blocksize-preferred=256")).toContain(
      "blocksize-preferred must be between 512 and 32M",
    );
    expect(await refused("blocksize-minimum=8K", "blocksize-preferred=4K")).toContain(
      "blocksize-minimum must be <= blocksize-preferred",
    );
    expect(await refused("blocksize-preferred=64K", "blocksize-maximum=32K")).toContain(
      "blocksize-preferred must be <= blocksize-maximum",
    );
  });
});
