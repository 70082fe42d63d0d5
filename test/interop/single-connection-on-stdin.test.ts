/**
 * -s serves one connection on the server's own stdin/stdout, as libnbd's connect_command
 * uses it, and the server exits when the client is done. Large writes in flight together
 * arrive in large chunks, which the Bun adapter frees once decoded: they must still read back.
 */

import { describe, expect, test } from "vitest";
import { expectSuccess, run } from "../helpers/captive.ts";
import { dedent, pythonList } from "../helpers/libnbd.ts";
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

  test("eight 1 MiB writes in flight over stdin read back byte for byte", async (context) => {
    requireClients(context, "nbdsh");
    const argv = pythonList([...server.argv, "-s", "memory", "8M"]);
    const script = dedent(`
      import os
      h.connect_command(${argv})
      data = os.urandom(8 << 20)
      mib = 1 << 20
      for i in range(8):
          h.aio_pwrite(nbd.Buffer.from_bytearray(bytearray(data[i * mib:(i + 1) * mib])), i * mib)
      while h.aio_in_flight() > 0:
          h.poll(-1)
      back = h.pread(8 * mib, 0)
      print(len(back), back == data)
      h.shutdown()
    `);
    const result = expectSuccess(await run(["nbdsh", "-c", script]));
    expect(result.stdout.trim()).toBe("8388608 True");
  });
});
