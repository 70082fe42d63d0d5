/**
 * Several clients connected at once to one background server share the same memory disk:
 * what one writes and flushes, the others read (the promise of CAN_MULTI_CONN).
 */

import { describe, expect, test } from "vitest";
import { startServer } from "../helpers/background.ts";
import { expectSuccess, run } from "../helpers/captive.ts";
import { requireClients, servers } from "../helpers/servers.ts";

describe.each(servers)("several connections share one disk ($name)", (server) => {
  test("four simultaneous connections see each other's flushed writes", async (context) => {
    requireClients(context, "nbdsh");
    const background = await startServer(server, ["memory", "1M"]);
    const script = `
import nbd, json
handles = []
for i in range(4):
    h = nbd.NBD()
    h.connect_unix(${JSON.stringify(background.socket)})
    handles.append(h)
for i, h in enumerate(handles):
    h.pwrite(("conn%d" % i).encode(), i * 4096, nbd.CMD_FLAG_FUA)
handles[0].flush()
seen = [[bytes(h.pread(5, j * 4096)).decode() for j in range(4)] for h in handles]
print(json.dumps({"multi_conn": [h.can_multi_conn() for h in handles], "seen": seen}))
`;
    const result = expectSuccess(await run(["python3", "-c", script]));
    const expected = ["conn0", "conn1", "conn2", "conn3"];
    expect(JSON.parse(result.stdout)).toEqual({
      multi_conn: [true, true, true, true],
      seen: [expected, expected, expected, expected],
    });
  });

  test("nbdinfo can query the server while another client is connected", async (context) => {
    requireClients(context, "nbdsh", "nbdinfo");
    const background = await startServer(server, ["memory", "1M"]);
    const script = `
import nbd, subprocess
h = nbd.NBD()
h.connect_unix(${JSON.stringify(background.socket)})
h.pwrite(b"x", 0)
print(subprocess.run(["nbdinfo", "--size", ${
      JSON.stringify(background.uri)
    }], capture_output=True, text=True, check=True).stdout.strip())
print(bytes(h.pread(1, 0)).decode())
`;
    const result = expectSuccess(await run(["python3", "-c", script]));
    expect(result.stdout.trim().split("\n")).toEqual(["1048576", "x"]);
  });
});
