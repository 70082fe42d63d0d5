/**
 * -s serves one connection on the server's own stdin/stdout, as libnbd's connect_command
 * uses it, and the server exits when the client is done.
 */

import { describe, expect, test } from "vitest";
import { expectSuccess, run } from "../helpers/captive.ts";
import { pythonList } from "../helpers/libnbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";

describe.each(servers)("single connection on stdin ($name)", (server) => {
  test("nbdsh talks to the server over its stdin and stdout", async (context) => {
    requireClients(context, "nbdsh");
    const argv = pythonList([...server.argv, "-s", "memory", "1M"]);
    const result = expectSuccess(
      await run([
        "nbdsh",
        "-c",
        `h.connect_command(${argv})`,
        "-c",
        'h.pwrite(b"over stdio", 4096)',
        "-c",
        "print(h.get_size(), bytes(h.pread(10, 4096)).decode(), h.get_protocol())",
        "-c",
        "h.shutdown()",
      ]),
    );
    expect(result.stdout.trim()).toBe("1048576 over stdio newstyle-fixed");
  });
});
