/**
 * A client that sends a flood of READs and never reads the replies is back-pressured: once
 * the replies it owes pile up, the server stops reading its requests (they back up in the
 * client's own socket), its memory stays bounded instead of holding gigabytes of replies,
 * and other clients are served normally all the while. Reading again, the slow client gets
 * its replies.
 */

import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { startServer } from "../helpers/background.ts";
import { residentBytes } from "../helpers/fault-plugin.ts";
import { bytes, CMD, RawConnection, request, WIRE } from "../helpers/raw-nbd.ts";
import { servers } from "../helpers/servers.ts";

const MiB = 1024 * 1024;
/** READs the slow client sends: 40 GiB of replies, and over 1 MB of requests. */
const READS = 40_000;
/** A server holding this much more than at the start has no working back-pressure. */
const BOUND = 256 * MiB;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Byte equality without vitest's element-by-element diff, slow on megabytes. */
const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;

describe.each(servers)("a client that never reads its replies ($name)", (server) => {
  test("is back-pressured with bounded memory while another client is served", async () => {
    // -t 1: nbdkit 1.32.5 aborts when several of its worker threads send to a client that hangs
    // up (nbdkit commit 9d82aa4f, fixed in 1.33.10), as the slow client does at the end here.
    // nbdts accepts -t and runs a connection's requests concurrently anyway.
    const background = await startServer(server, ["memory", "64M"], { serverOptions: ["-t", "1"] });
    const pid = Number(readFileSync(background.pidFile, "utf8"));
    const bystander = await RawConnection.opened(background.socket);
    const pattern = Uint8Array.from({ length: MiB }, (_, i) => (i * 31) & 0xff);
    for (let i = 0; i < 16; i++) expect(await bystander.pwrite(pattern, i * MiB, 1n)).toBe(0);
    const before = residentBytes(pid);

    const slow = await RawConnection.opened(background.socket);
    slow.pauseReading();
    const requests = Array.from(
      { length: READS },
      (_, i) => request({ type: CMD.READ, cookie: BigInt(i), offset: (i % 16) * MiB, length: MiB }),
    );
    slow.write(bytes(...requests));

    // Two seconds of the flood, sampled; a server past the bound is stopped before it eats
    // the machine.
    let peak = 0;
    for (let sample = 0; sample < 20; sample++) {
      await sleep(100);
      peak = Math.max(peak, residentBytes(pid) - before);
      if (peak > 2 * BOUND) break;
    }
    console.log(`${server.name}: RSS peak +${(peak / MiB).toFixed(1)} MiB under the flood`);
    expect(peak).toBeLessThan(BOUND);
    expect(slow.unsent).toBeGreaterThan(0); // the server stopped reading the flood

    // Meanwhile another client reads and writes as usual.
    for (let i = 0; i < 16; i++) {
      const { error, data } = await bystander.pread(MiB, i * MiB, 2n);
      expect(error).toBe(0);
      expect(same(data, pattern)).toBe(true);
    }
    expect(await bystander.pwrite(pattern, 32 * MiB, 3n)).toBe(0);

    // The slow client, reading again, gets well-formed replies to what it asked.
    slow.resumeReading();
    for (let i = 0; i < 8; i++) {
      const reply = await slow.readSimpleReply();
      expect(reply.magic).toBe(WIRE.SIMPLE_REPLY_MAGIC);
      expect(reply.error).toBe(0);
      expect(reply.cookie).toBeLessThan(BigInt(READS));
      expect(same(await slow.read(MiB), pattern)).toBe(true);
    }
    slow.close();
    expect(same((await bystander.pread(MiB, 0, 4n)).data, pattern)).toBe(true);
    bystander.close();
  });
});
