/**
 * --filter=pause (man nbdkit-pause-filter): a client of the control socket (`pause-control=`)
 * sends `p` to pause request processing, answered `P` once requests already running are done,
 * and `r` to resume, answered `R`; whitespace is ignored and any other byte answered `X`. While
 * paused a request waits; it completes after the resume. Checked by order: a read sent while
 * paused has not completed when the resume is sent, and completes after it. A file already at
 * the socket's path is replaced, and the socket removed at exit.
 */

import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { startServer } from "../helpers/background.ts";
import { run, scratchDir } from "../helpers/captive.ts";
import { filterHelp, refusedStart } from "../helpers/filters.ts";
import { requireClients, servers } from "../helpers/servers.ts";

describe.each(servers)("pause filter ($name)", (server) => {
  test("a read sent while paused waits for the resume; the control socket answers each byte", async (context) => {
    requireClients(context, "nbdsh");
    const control = join(scratchDir(), "control");
    writeFileSync(control, "a stale file, replaced by the socket\n");
    const background = await startServer(server, [
      "--filter=pause",
      "memory",
      "1M",
      `pause-control=${control}`,
    ]);
    const result = await run([
      "nbdsh",
      "-c",
      `
import json, os, socket, time
h = nbd.NBD()
h.connect_uri(os.environ["URI"])
h.pwrite(b"paused", 0)
c = socket.socket(socket.AF_UNIX)
c.connect(${JSON.stringify(control)})
c.sendall(b"p\\n")
answers = [c.recv(1).decode()]
buf = nbd.Buffer(6)
cookie = h.aio_pread(buf, 0)
deadline = time.monotonic() + 1.0
while time.monotonic() < deadline:
    h.poll(100)
waited = not h.aio_command_completed(cookie)
c.sendall(b" r?")
answers += [c.recv(1).decode(), c.recv(1).decode()]
while not h.aio_command_completed(cookie):
    h.poll(1000)
print(json.dumps({"answers": answers, "waited": waited, "read": bytes(buf.to_bytearray()).decode()}))
h.shutdown()
`,
    ], { env: { URI: background.uri } });
    expect(JSON.parse(result.stdout)).toEqual({
      answers: ["P", "R", "X"],
      waited: true,
      read: "paused",
    });
    await background.stop();
    expect(existsSync(control)).toBe(false); // removed at exit
  });

  test("pause-control= is required, and --help shows nbdkit's parameter", async () => {
    expect(await refusedStart(server, ["--filter=pause", "null"])).toContain(
      "pause-control socket was not set",
    );
    expect(
      await refusedStart(server, ["--filter=pause", "null", `pause-control=/${"x".repeat(120)}`]),
    ).toContain("pause-control socket path too long: length 121 > max 107 bytes");
    expect(await filterHelp(server, "pause")).toBe(
      "pause-control=SOCKET           Control socket.",
    );
  });
});
