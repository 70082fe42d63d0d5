/**
 * blocksize-write-disconnect=N (nbdkit 1.34's blocksize-policy parameter) drops the connection
 * of a client that writes more than N bytes at once, as qemu-nbd does past 32 MiB: the write
 * gets no reply, the plugin never sees it, and the reason is logged. nbdkit 1.32.5 does not
 * have the parameter (it hands it on to the plugin, which refuses it): these tests run against
 * nbdts alone.
 */

import { describe, expect, test } from "vitest";
import { captive, expectSuccess } from "../helpers/captive.ts";
import { refusedStart } from "../helpers/filters.ts";
import { logPlugin } from "../helpers/log-plugin.ts";
import { requireClients, servers } from "../helpers/servers.ts";

const ours = servers.filter((server) => server.name.startsWith("nbdts"));

describe.each(ours)("blocksize-policy filter: write disconnect ($name)", (server) => {
  test("a write over the limit ends the connection; the plugin never sees it", async (context) => {
    requireClients(context, "nbdsh");
    const plugin = logPlugin(server);
    const args = ["--filter=blocksize-policy", ...plugin.argv, "blocksize-write-disconnect=64K"];
    const result = expectSuccess(
      await captive(
        server,
        args,
        `nbdsh -u "$uri" -c '
h.pwrite(b"a" * 65536, 0)
try:
    h.pwrite(b"b" * 65537, 0)
except nbd.Error as e:
    print(e.errno)
print(h.aio_is_ready())'`,
      ),
    );
    expect(result.stdout.trim().split("\n")).toEqual(["ENOTCONN", "False"]);
    expect(result.stderr).toContain(
      "error: disconnecting client due to oversize write request",
    );
    expect(plugin.lines()).toEqual(["pwrite 65536 0"]);
  });

  test("a plugin without sizes advertises the limit, in whole minimum blocks, as its maximum", async (context) => {
    requireClients(context, "nbdsh");
    const result = expectSuccess(
      await captive(
        server,
        [
          "--filter=blocksize-policy",
          "memory",
          "1M",
          "blocksize-minimum=4K",
          "blocksize-write-disconnect=100000",
        ],
        `nbdsh -u "$uri" -c 'print(h.get_block_size(nbd.SIZE_MAXIMUM))'`,
      ),
    );
    expect(result.stdout.trim()).toBe(String(98304));
  });

  test("a limit not over the minimum is refused at start-up", async () => {
    const args = ["--filter=blocksize-policy", "memory", "1M", "blocksize-minimum=4K"];
    expect(await refusedStart(server, [...args, "blocksize-write-disconnect=4K"])).toContain(
      "blocksize-write-disconnect must be larger than blocksize-minimum",
    );
  });
});
