/**
 * The data plugin's parameters: raw= and base64= instead of an expression, size= cutting or
 * padding the disk, allocator=, and extra key=value parameters as $VAR values.
 */

import { describe, expect, test } from "vitest";
import { captive, expectSuccess, runServer } from "../helpers/captive.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";

/** Python that reports the disk's size and all its bytes as hex (small disks only). */
const WHOLE_DISK = `
h = connect()
size = h.get_size()
report(size=size, bytes=bytes(h.pread(size, 0)).hex() if size else "")
`;

describe.each(servers)("data plugin parameters ($name)", (server) => {
  test.for<[string[], number, string]>([
    [["raw=Hello"], 5, "48656c6c6f"],
    [["raw=é"], 2, "c3a9"],
    [["raw="], 0, ""],
    [["base64=MTIz"], 3, "313233"],
    [["base64= MT\tIz\n"], 3, "313233"],
    [["base64=TQ=="], 1, "4d"],
    [["base64=+/+/"], 3, "fbffbf"],
    [["base64=MTIz", "size=5"], 5, "3132330000"],
    [["1 2 3", "size=2"], 2, "0102"],
    [["data=1 2 3", "size=4"], 4, "01020300"],
    [["1 2 3", "allocator=malloc"], 3, "010203"],
    [["1 2 3", "allocator=sparse"], 3, "010203"],
    [["$x $x", "x=0x41", "x=0x42"], 2, "4141"],
  ])("data %j serves %i bytes %s", async ([args, size, bytes], context) => {
    requireClients(context, "nbdsh");
    expect(await libnbd(server, ["data", ...args], WHOLE_DISK)).toEqual({ size, bytes });
  });

  test("base64= with size=1M pads with zeroes", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["data", "base64=MTIz", "size=1M"],
      `
      h = connect()
      report(size=h.get_size(), head=bytes(h.pread(4, 0)).hex(),
             rest=bytes(h.pread(1024 * 1024 - 3, 3)) == bytes(1024 * 1024 - 3))
    `,
    );
    expect(result).toEqual({ size: 1048576, head: "31323300", rest: true });
  });

  test("the man page's hello world: raw= copied out by nbdcopy", async (context) => {
    requireClients(context, "nbdcopy");
    const { stdout } = expectSuccess(
      await captive(server, ["data", "raw=Hello, world!"], 'nbdcopy "$uri" - | cat'),
    );
    expect(stdout).toBe("Hello, world!");
  });

  test("--dump-plugin says base64 is supported", async () => {
    const { stdout } = expectSuccess(await runServer(server, ["data", "--dump-plugin"]));
    expect(stdout).toMatch(/^data_base64=yes$/m);
  });
});
