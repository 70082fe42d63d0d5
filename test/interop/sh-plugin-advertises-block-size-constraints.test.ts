/**
 * The shape of nbdkit's tests/test-block-size-constraints.sh: a script's block_size method
 * prints three sizes ("64K 128K 32M", any nbdkit size) that reach the client as
 * NBD_INFO_BLOCK_SIZE; sizes that nbdkit refuses (unparseable, too few, not powers of two) fail
 * the open, so the client cannot connect, and a missing method advertises none.
 */

import { describe, expect, test } from "vitest";
import { captive, expectSuccess } from "../helpers/captive.ts";
import { requireClients, servers } from "../helpers/servers.ts";

const READ_SIZES =
  `nbdsh -u "$uri" -c 'print(h.get_block_size(nbd.SIZE_MINIMUM), h.get_block_size(nbd.SIZE_PREFERRED), h.get_block_size(nbd.SIZE_MAXIMUM))'`;

describe.each(servers)("the sh plugin advertises block size constraints ($name)", (server) => {
  test("three sizes, in nbdkit's size syntax, reach the client", async (context) => {
    requireClients(context, "nbdsh");
    const { stdout } = expectSuccess(
      await captive(
        server,
        ["eval", "block_size=echo 64K 128K 32M", "get_size=echo 0"],
        READ_SIZES,
      ),
    );
    expect(stdout.trim()).toBe(`${64 * 1024} ${128 * 1024} ${32 * 1024 * 1024}`);
  });

  test("sizes split by tabs and newlines too; a missing method advertises none", async (context) => {
    requireClients(context, "nbdsh");
    const split = expectSuccess(
      await captive(
        server,
        ["eval", "block_size=printf '512\\t4k\\n1M\\n'", "get_size=echo 1M"],
        READ_SIZES,
      ),
    );
    expect(split.stdout.trim()).toBe("512 4096 1048576");
    const none = expectSuccess(await captive(server, ["eval", "get_size=echo 1M"], READ_SIZES));
    expect(none.stdout.trim()).toBe("0 0 0");
  });

  test.for(
    [
      ["unparseable", "echo 64K lots 32M"],
      ["too few", "echo 512 4096"],
      ["a minimum that is no power of two", "echo 1000 4096 1M"],
      ["over 4G", "echo 512 4096 5G"],
    ] as const,
  )("%s: the export cannot be opened", async ([, method], context) => {
    requireClients(context, "nbdinfo");
    const result = await captive(
      server,
      ["eval", `block_size=${method}`, "get_size=echo 1M"],
      'nbdinfo --size "$uri"',
    );
    expect(result.status).not.toBe(0);
    expect(result.stdout).toBe("");
  });
});
