/**
 * curl [url=]URL: a disk image on a web server that serves byte ranges is read through ranged
 * GETs — nbdcopy copies it out unchanged, qemu-img converts it, many reads run at once — and a
 * redirect is followed unless followlocation=false.
 */

import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { captive, expectSuccess, scratchDir } from "../helpers/captive.ts";
import { startHttpDisk } from "../helpers/http-disk-server.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";

const MIB = 1024 * 1024;
const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

describe.each(servers)("curl plugin reads over HTTP ranges ($name)", (server) => {
  test("nbdcopy copies the image out unchanged, in ranged GETs", async (context) => {
    requireClients(context, "nbdcopy", "nbdinfo");
    const image = randomBytes(3 * MIB + 4096);
    const web = await startHttpDisk(image);
    const copy = join(scratchDir(), "copy.img");
    const { stdout } = expectSuccess(
      await captive(
        server,
        ["-r", "curl", web.url],
        `nbdinfo --size "$uri" && nbdcopy "$uri" ${copy}`,
      ),
    );
    expect(stdout.trim()).toBe(String(image.length));
    expect(sha256(readFileSync(copy))).toBe(sha256(image));
    const gets = web.requests.filter((request) => request.method === "GET");
    expect(gets.length).toBeGreaterThan(0);
    for (const get of gets) expect(get.headers.range).toMatch(/^bytes=\d+-\d+$/);
  });

  test("qemu-img convert reads it as a raw image", async (context) => {
    requireClients(context, "qemu-img");
    const image = randomBytes(2 * MIB);
    const web = await startHttpDisk(image);
    const out = join(scratchDir(), "out.img");
    expectSuccess(
      await captive(
        server,
        ["-r", "curl", `url=${web.url}`],
        `qemu-img convert -f raw -O raw "$nbd" ${out}`,
      ),
    );
    expect(sha256(readFileSync(out))).toBe(sha256(image));
  });

  test("reads at any offset and length, many in flight, give the image's bytes", async (context) => {
    requireClients(context, "python3");
    const image = randomBytes(MIB);
    const web = await startHttpDisk(image);
    const reported = await libnbd(
      server,
      ["-r", "curl", web.url],
      `
      h = connect()
      spans = [(0, 1), (1, 511), (4095, 2), (65536, 65536), (MIB - 7, 7), (12345, 100000)]
      bufs = [nbd.Buffer(n) for n, _ in [(c, o) for o, c in spans]]
      cookies = [h.aio_pread(b, o) for b, (o, c) in zip(bufs, spans)]
      while h.aio_in_flight() > 0:
          h.poll(-1)
      report(hex=[b.to_bytearray().hex() for b in bufs], size=h.get_size())
      `.replaceAll("MIB", String(MIB)),
    );
    const spans = [[0, 1], [1, 511], [4095, 2], [65536, 65536], [MIB - 7, 7], [12345, 100000]];
    expect(reported.size).toBe(MIB);
    expect(reported.hex).toEqual(
      spans.map(([offset, count]) =>
        Buffer.from(image.subarray(offset, offset + count)).toString("hex")
      ),
    );
  });

  test("a redirect is followed, and refused with followlocation=false", async (context) => {
    requireClients(context, "nbdinfo");
    const image = randomBytes(64 * 1024);
    const web = await startHttpDisk(image);
    const followed = await captive(
      server,
      ["-r", "curl", `${web.origin}/redirect`],
      `nbdinfo --size "$uri"`,
    );
    expect(expectSuccess(followed).stdout.trim()).toBe(String(image.length));
    const refused = await captive(
      server,
      ["-r", "curl", `${web.origin}/redirect`, "followlocation=false"],
      `nbdinfo --size "$uri"`,
    );
    expect(refused.status).not.toBe(0);
  });
});
