/**
 * A client that goes away in the middle of things (half a WRITE payload sent, or dozens of
 * requests queued and no reply read) costs the server nothing: it keeps serving, the plugin's
 * close() runs for that connection's handle, another client connected all along sees its
 * acknowledged data intact, and hundreds of such clients leave the server's memory bounded.
 */

import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { type StartOptions, startServer } from "../helpers/background.ts";
import { eventually, faultPlugin, residentBytes } from "../helpers/fault-plugin.ts";
import { bytes, CMD, RawConnection, request } from "../helpers/raw-nbd.ts";
import { servers } from "../helpers/servers.ts";

const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * `-t 1` for a client that hangs up with replies still to send: nbdkit 1.32.5 aborts when two
 * of its worker threads send to a client that has gone (assertion "sock >= 0" in
 * raw_send_socket; nbdkit commit 9d82aa4f, fixed in 1.33.10), killing every connection. One
 * worker avoids that; nbdts accepts -t and runs a connection's requests concurrently anyway.
 */
const ONE_WORKER = { serverOptions: ["-t", "1"] };

const filled = (length: number, byte: number) => new Uint8Array(length).fill(byte);

/** WRITE requests of `length` bytes each at `offsets`, and as many READs, in one buffer. */
function queuedRequests(offsets: readonly number[], length: number): Uint8Array {
  const writes = offsets.map((offset, i) =>
    request({ type: CMD.WRITE, cookie: BigInt(i), offset, length }, filled(length, 0xdd))
  );
  const reads = offsets.map((offset, i) =>
    request({ type: CMD.READ, cookie: BigInt(1000 + i), offset, length })
  );
  return bytes(...writes, ...reads);
}

describe.each(servers)("a client that disconnects mid-request ($name)", (server) => {
  /**
   * A bystander writes 64 KiB and stays connected; another client opens "dying", sends `wire`
   * and hangs up. The dying client's handle must then be closed, the bystander's data intact
   * and its connection still working.
   */
  async function bystanderOutlives(wire: Uint8Array, options: StartOptions = {}) {
    const plugin = faultPlugin(server);
    const background = await startServer(server, plugin.argv, options);
    const bystander = await RawConnection.opened(background.socket, "bystander");
    const acknowledged = filled(64 * KiB, 0x42);
    expect(await bystander.pwrite(acknowledged, 0)).toBe(0);

    const dying = await RawConnection.opened(background.socket, "dying");
    dying.write(wire);
    dying.close();

    expect(await eventually(() => plugin.events().includes("close dying"))).toBe(true);
    expect(await bystander.pread(64 * KiB, 0)).toEqual({ error: 0, data: acknowledged });
    expect(await bystander.pwrite(filled(512, 0x43), 64 * KiB)).toBe(0);
    expect(plugin.events()).not.toContain("close bystander");
    bystander.close();
  }

  test("half a WRITE payload then close: its handle is closed, nothing is written, and another client is unaffected", async () => {
    // The unfinished WRITE targets the bystander's bytes: they must read back unchanged.
    await bystanderOutlives(
      request({ type: CMD.WRITE, offset: 0, length: 64 * KiB }, filled(32 * KiB, 0xee)),
    );
  });

  test("64 reads and writes queued then close: its handle is closed and another client is unaffected", async () => {
    const offsets = Array.from({ length: 32 }, (_, i) => 128 * KiB + i * 4 * KiB);
    await bystanderOutlives(queuedRequests(offsets, 4 * KiB), ONE_WORKER);
  });

  test("100 clients leaving mid-request close every handle and leave memory bounded", async () => {
    const plugin = faultPlugin(server, 16 * MiB);
    const background = await startServer(server, plugin.argv, ONE_WORKER);
    const pid = Number(readFileSync(background.pidFile, "utf8"));
    const bystander = await RawConnection.opened(background.socket, "bystander");
    const acknowledged = filled(MiB, 0x42);
    expect(await bystander.pwrite(acknowledged, 0)).toBe(0);

    // Each client reads 1 MiB four times (filling the server's buffers), starts a 1 MiB
    // WRITE, sends half its payload and leaves. A connection kept after its client left
    // would keep at least 5 MiB: 80 of them, 400 MiB.
    const rounds = 100;
    let warmed = 0;
    for (let round = 0; round < rounds; round++) {
      if (round === 20) warmed = residentBytes(pid);
      const name = `dying-${round}`;
      const dying = await RawConnection.opened(background.socket, name);
      const reads = Array.from(
        { length: 4 },
        (_, i) =>
          request({ type: CMD.READ, cookie: BigInt(i), offset: (i + 1) * MiB, length: MiB }),
      );
      const write = request({ type: CMD.WRITE, offset: 0, length: MiB }, filled(MiB / 2, 0xee));
      dying.write(bytes(...reads, write));
      dying.close();
      expect(await eventually(() => plugin.events().includes(`close ${name}`))).toBe(true);
    }
    const grown = residentBytes(pid) - warmed;
    console.log(
      `${server.name}: RSS grew ${(grown / MiB).toFixed(1)} MiB over ${rounds - 20} rounds`,
    );
    expect(grown).toBeLessThan(64 * MiB);
    expect(await bystander.pread(MiB, 0)).toEqual({ error: 0, data: acknowledged });
    bystander.close();
  });
});
