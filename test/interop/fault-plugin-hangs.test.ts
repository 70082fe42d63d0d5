/**
 * A plugin callback that hangs holds up nothing but itself: other clients, and other requests
 * on the same connection, are served meanwhile. When the hung request's client leaves, the
 * plugin's close() is not called under the callback's feet: it runs once the callback returns
 * (nbdkit waits for its worker threads, then closes the handle), and until then the
 * connection keeps no more memory than the hung request's own buffer.
 */

import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { type BackgroundServer, startServer } from "../helpers/background.ts";
import { eventually, faultPlugin, residentBytes } from "../helpers/fault-plugin.ts";
import { bytes, CMD, RawConnection, request } from "../helpers/raw-nbd.ts";
import { servers } from "../helpers/servers.ts";

const MiB = 1024 * 1024;

/** Proves `background` serves a fresh client: a write, then reading it back. */
async function servesOthers(background: BackgroundServer): Promise<void> {
  const other = await RawConnection.opened(background.socket, "");
  const data = new Uint8Array(4096).fill(0x5a);
  expect(await other.pwrite(data, 8192)).toBe(0);
  expect(await other.pread(4096, 8192)).toEqual({ error: 0, data });
  other.close();
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(servers)("a plugin callback that hangs ($name)", (server) => {
  for (
    const [name, hung] of [
      ["pread-hangs", request({ type: CMD.READ, cookie: 7n, offset: 0, length: 4096 })],
      [
        "pwrite-hangs",
        request({ type: CMD.WRITE, cookie: 7n, length: 4096 }, new Uint8Array(4096)),
      ],
    ] as const
  ) {
    test(`${name}: others are served meanwhile, and close() runs once it returns after its client left`, async () => {
      const plugin = faultPlugin(server);
      const background = await startServer(server, plugin.argv);
      const stuck = await RawConnection.opened(background.socket, name);
      stuck.write(hung);
      await sleep(200);
      await servesOthers(background);
      if (name === "pread-hangs") {
        // Only reads at offset 0 hang: another read on the same connection overtakes it.
        expect((await stuck.pread(512, 4096, 8n)).error).toBe(0);
      }

      stuck.close();
      await sleep(500);
      expect(plugin.events()).not.toContain(`close ${name}`);
      await servesOthers(background);

      plugin.release();
      expect(await eventually(() => plugin.events().includes(`close ${name}`))).toBe(true);
      await servesOthers(background);
    });
  }

  test("open-hangs: others are served meanwhile, and the handle is closed once open returns after its client left", async () => {
    const plugin = faultPlugin(server);
    const background = await startServer(server, plugin.argv);
    const stuck = await RawConnection.open(background.socket);
    await stuck.greet();
    const go = stuck.go("open-hangs").catch(() => undefined); // never answered while open hangs
    await sleep(200);
    await servesOthers(background);
    stuck.close();
    await go;
    await sleep(300);
    expect(plugin.events()).not.toContain("open open-hangs");

    plugin.release();
    expect(await eventually(() => plugin.events().includes("close open-hangs"))).toBe(true);
    expect(plugin.events()).toContain("open open-hangs");
    await servesOthers(background);
  });

  test("twenty clients that leave while a READ hangs keep little more than that READ's buffer", async () => {
    const plugin = faultPlugin(server, 32 * MiB);
    const background = await startServer(server, plugin.argv);
    const pid = Number(readFileSync(background.pidFile, "utf8"));
    await servesOthers(background);
    const before = residentBytes(pid);
    // Each client first reads 16 × 1 MiB at once (the server keeps buffers for reuse by the
    // connection), then sends a 1 MiB READ that hangs and leaves. Kept whole, each connection
    // would hold 16 MiB or more (320 MiB in all); what must stay is the hung READ's 1 MiB,
    // plus what a garbage-collected runtime has not yet collected.
    const CLIENTS = 20;
    for (let client = 0; client < CLIENTS; client++) {
      const stuck = await RawConnection.opened(background.socket, "pread-hangs");
      const reads = Array.from(
        { length: 16 },
        (_, i) =>
          request({ type: CMD.READ, cookie: BigInt(i), offset: (i + 1) * MiB, length: MiB }),
      );
      stuck.write(bytes(...reads));
      for (let i = 0; i < 16; i++) {
        expect((await stuck.readSimpleReply()).error).toBe(0);
        await stuck.read(MiB);
      }
      stuck.write(request({ type: CMD.READ, cookie: 99n, offset: 0, length: MiB }));
      await sleep(100);
      stuck.close();
    }
    await sleep(500);
    const grown = residentBytes(pid) - before;
    console.log(
      `${server.name}: RSS grew ${(grown / MiB).toFixed(1)} MiB with ${CLIENTS} hung clients gone`,
    );
    expect(grown).toBeLessThan(192 * MiB);
    await servesOthers(background);
    plugin.release();
    expect(
      await eventually(() =>
        plugin.events().filter((e) => e === "close pread-hangs").length === CLIENTS
      ),
    ).toBe(true);
  });
});
