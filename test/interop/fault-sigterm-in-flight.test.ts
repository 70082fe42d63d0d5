/**
 * SIGTERM with requests in flight: each request the server has started is finished and
 * answered, the rest fail cleanly with the connection (none is left hanging), every write
 * that was acknowledged is in the disk file, the plugin is unloaded last, and the server
 * exits with status 0. A callback that hangs holds the exit back until it returns, in nbdkit
 * and in nbdts alike. One difference is allowed: nbdts calls close() on each open handle
 * before unload(), as nbdkit-plugin(1) "SHUTDOWN" promises, while nbdkit 1.32.5 skips .close
 * once it is quitting (server/connections.c, free_connection).
 */

import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { startServer } from "../helpers/background.ts";
import { expectSuccess, run } from "../helpers/captive.ts";
import { eventually, faultPlugin } from "../helpers/fault-plugin.ts";
import { CMD, RawConnection, request } from "../helpers/raw-nbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";

const KiB = 1024;
const WRITES = 16;
const WRITE_SIZE = 64 * KiB;

/**
 * Python (libnbd): 16 WRITEs (write i fills 64 KiB with byte i + 1) and 16 READs to the "slow"
 * export, each taking 0.2 s in the plugin; SIGTERM to the server 0.1 s later; then what
 * became of each: "ok", the errno it failed with, or "pending".
 */
function inFlightScript(socket: string, pid: number): string {
  return `
import json, os, signal, time, nbd
h = nbd.NBD()
h.set_export_name("slow")
h.connect_unix(${JSON.stringify(socket)})
writes = [h.aio_pwrite(nbd.Buffer.from_bytearray(bytearray([i + 1]) * ${WRITE_SIZE}), i * ${WRITE_SIZE})
          for i in range(${WRITES})]
reads = [h.aio_pread(nbd.Buffer(4096), 512 * 1024 + i * 4096) for i in range(16)]
time.sleep(0.1)
os.kill(${pid}, signal.SIGTERM)
deadline = time.time() + 20
while h.aio_in_flight() > 0 and time.time() < deadline:
    try:
        h.poll(1000)
    except nbd.Error:
        break
def state(cookie):
    try:
        return "ok" if h.aio_command_completed(cookie) else "pending"
    except nbd.Error as e:
        return e.errno or "failed"
print(json.dumps({"writes": [state(c) for c in writes], "reads": [state(c) for c in reads]}))
`;
}

/** nbdkit 1.32.5 does not call .close for connections still open when it quits. */
const closesAtShutdown = (name: string) => name !== "nbdkit";

describe.each(servers)("SIGTERM with requests in flight ($name)", (server) => {
  test("started requests are answered, the rest fail cleanly, acknowledged writes are on disk, and it exits 0", async (context) => {
    requireClients(context, "nbdsh");
    const plugin = faultPlugin(server);
    const background = await startServer(server, plugin.argv);
    const pid = Number(readFileSync(background.pidFile, "utf8"));
    const result = expectSuccess(
      await run(["python3", "-c", inFlightScript(background.socket, pid)]),
    );
    const outcome = JSON.parse(result.stdout) as { writes: string[]; reads: string[] };
    expect(await background.exited).toEqual({ status: 0, signal: null });

    const all = [...outcome.writes, ...outcome.reads];
    expect(all).not.toContain("pending");
    // The server had read and started at least the first writes: those are finished.
    expect(outcome.writes[0]).toBe("ok");
    const disk = readFileSync(plugin.disk);
    outcome.writes.forEach((state, i) => {
      if (state !== "ok") return;
      const written = disk.subarray(i * WRITE_SIZE, (i + 1) * WRITE_SIZE);
      expect(written.every((byte) => byte === i + 1)).toBe(true);
    });

    const events = plugin.events();
    expect(events.at(-1)).toBe("unload");
    expect(events.includes("close slow")).toBe(closesAtShutdown(server.name));
  });

  test("a hung callback holds the exit back; once it returns its READ is answered and the server exits 0", async () => {
    const plugin = faultPlugin(server);
    const background = await startServer(server, plugin.argv);
    const stuck = await RawConnection.opened(background.socket, "pread-hangs");
    stuck.write(request({ type: CMD.READ, cookie: 5n, offset: 0, length: 4096 }));
    await new Promise((resolve) => setTimeout(resolve, 200));

    process.kill(background.pid, "SIGTERM");
    let exited = false;
    void background.exited.then(() => (exited = true));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(exited).toBe(false);

    plugin.release();
    const reply = await stuck.readSimpleReply();
    expect(reply).toMatchObject({ error: 0, cookie: 5n });
    // nbdts then closes the connection itself; nbdkit 1.32.5 may wait for the client to go.
    stuck.close();
    expect(await eventually(() => exited)).toBe(true);
    expect(await background.exited).toEqual({ status: 0, signal: null });
    expect(plugin.events().at(-1)).toBe("unload");
  });
});
