/**
 * -s -o serves one oldstyle connection on the server's stdin and stdout, as libnbd's own
 * oldstyle test runs nbdkit (`nbdkit -s -o --exit-with-parent -v memory size=65536`): nbdsh
 * reads and writes through connect_command, and nbdinfo, which takes only a URI, reports
 * protocol oldstyle, the size and the flags through a socket joined to the server's stdio.
 */

import { describe, expect, test } from "vitest";
import { expectSuccess, run } from "../helpers/captive.ts";
import { dedent, pythonList } from "../helpers/libnbd.ts";
import { OLDSTYLE_MEMORY_1M, portableInfo } from "../helpers/nbdinfo-report.ts";
import { requireClients, servers } from "../helpers/servers.ts";
import { stdioRelay } from "../helpers/stdio-relay.ts";

describe.each(servers)("oldstyle single connection on stdin ($name)", (server) => {
  test("nbdsh writes and reads back over stdio, as libnbd's oldstyle test does", async (context) => {
    requireClients(context, "nbdsh");
    const argv = [...server.argv, "-s", "-o", "--exit-with-parent", "-v", "memory", "size=65536"];
    const script = dedent(`
      h.connect_command(${pythonList(argv)})
      data = bytes([1, 2, 3, 4]) + bytes(508)
      h.pwrite(data, 1024)
      print(h.get_protocol(), h.get_size(), bytes(h.pread(512, 1024)) == data)
      h.shutdown()
    `);
    const result = expectSuccess(await run(["nbdsh", "-c", script]));
    expect(result.stdout.trim()).toBe("oldstyle 65536 True");
  });

  test("nbdinfo reports protocol oldstyle, the size and the flags", async (context) => {
    requireClients(context, "nbdinfo");
    const socket = await stdioRelay([...server.argv, "-s", "-o", "memory", "1M"]);
    const result = expectSuccess(await run(["nbdinfo", `nbd+unix:///?socket=${socket}`]));
    expect(portableInfo(result.stdout)).toBe(OLDSTYLE_MEMORY_1M);
  });
});
