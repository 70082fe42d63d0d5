/**
 * S3 (nbdkit's S3 plugin, `nbdkit S3 …`) on a real S3 store, the local Ceph RADOS Gateway
 * (scripts/s3-local.sh): what nbdcopy and qemu-img write into a disk of objects comes back out
 * unchanged, lands as objects `KEY/NNNNNNNNNNNNNNNN` of object-size bytes, and a disk written by
 * one plugin reads the same through the other. Without size= the disk is one object, read-only.
 * object-size is 64K: nbdkit's plugin advertises it as the minimum block size, which NBD caps.
 */

import { createHash, randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { captive, expectSuccess, scratchDir } from "../helpers/captive.ts";
import { newBucket } from "../helpers/s3-store.ts";
import { KNOWN_SERVERS, requireClients, servers } from "../helpers/servers.ts";

const KIB = 1024;
const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
const DISK = ["size=1M", "object-size=64K"];

describe.each(servers)("S3 plugin round trips ($name)", (server) => {
  test("nbdcopy in and out gives the same bytes, stored as 64K objects", async (context) => {
    requireClients(context, "nbdcopy");
    const bucket = await newBucket(context);
    const dir = scratchDir();
    const source = join(dir, "source.img");
    const copy = join(dir, "copy.img");
    const image = randomBytes(1024 * KIB);
    image.fill(0, 256 * KIB, 512 * KIB); // four objects of zeroes: nbdcopy may skip them
    writeFileSync(source, image);
    expectSuccess(
      await captive(
        server,
        bucket.plugin("disk", ...DISK),
        `nbdcopy ${source} "$uri" && nbdcopy "$uri" ${copy}`,
      ),
    );
    expect(sha256(readFileSync(copy))).toBe(sha256(image));
    const keys = await bucket.list("disk/");
    expect(keys.length).toBeGreaterThanOrEqual(12);
    for (const { key, size } of keys) {
      expect(key).toMatch(/^disk\/[0-9a-f]{16}$/);
      expect(size).toBe(64 * KIB);
    }
    expect(await bucket.get("disk/0000000000000003")).toEqual(
      new Uint8Array(image.subarray(3 * 64 * KIB, 4 * 64 * KIB)),
    );
  });

  test("qemu-img converts an image into the bucket and back out", async (context) => {
    requireClients(context, "qemu-img");
    const bucket = await newBucket(context);
    const dir = scratchDir();
    const source = join(dir, "source.img");
    const out = join(dir, "out.img");
    const image = randomBytes(1024 * KIB);
    writeFileSync(source, image);
    expectSuccess(
      await captive(
        server,
        bucket.plugin("vm", ...DISK),
        `qemu-img convert -n -f raw -O raw ${source} "$nbd" && qemu-img convert -f raw -O raw "$nbd" ${out}`,
      ),
    );
    expect(sha256(readFileSync(out))).toBe(sha256(image));
  });

  test("without size= the disk is one object, read-only, of its size", async (context) => {
    requireClients(context, "nbdcopy", "nbdinfo");
    const bucket = await newBucket(context);
    const image = randomBytes(300 * KIB + 17);
    await bucket.put("whole.img", image);
    const copy = join(scratchDir(), "copy.img");
    const { stdout } = expectSuccess(
      await captive(
        server,
        bucket.plugin("whole.img"),
        `nbdinfo --json "$uri" && nbdcopy "$uri" ${copy}`,
      ),
    );
    expect(JSON.parse(stdout).exports[0]).toMatchObject({
      "export-size": image.length,
      is_read_only: true,
    });
    expect(sha256(readFileSync(copy))).toBe(sha256(image));
  });

  test("a disk written through this server reads the same through the other plugin", async (context) => {
    requireClients(context, "nbdcopy");
    const other = KNOWN_SERVERS.find((known) =>
      known.available &&
      (server.name === "nbdkit" ? known.name === "nbdts-node" : known.name === "nbdkit")
    );
    if (!other) return context.skip("requires nbdkit and nbdts-node both");
    const bucket = await newBucket(context);
    const dir = scratchDir();
    const source = join(dir, "source.img");
    const copy = join(dir, "copy.img");
    const image = randomBytes(1024 * KIB);
    writeFileSync(source, image);
    expectSuccess(
      await captive(server, bucket.plugin("shared", ...DISK), `nbdcopy ${source} "$uri"`),
    );
    expectSuccess(await captive(other, bucket.plugin("shared", ...DISK), `nbdcopy "$uri" ${copy}`));
    expect(sha256(readFileSync(copy))).toBe(sha256(image));
  });
});
