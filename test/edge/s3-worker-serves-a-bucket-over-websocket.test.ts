/**
 * The Worker-style S3 example (examples/s3-worker.ts) under `deno serve`, against the local Ceph
 * gateway: a disk kept in a bucket, served over WebSocket by an edge handler that only has fetch.
 * What one worker was told is written is in the store's own listing and reads back through a
 * second worker over the same bucket; a bucket that does not exist stops the worker at start.
 */

import { createHash, randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { expectSuccess, run, scratchDir } from "../helpers/captive.ts";
import { startDenoServe } from "../helpers/deno-serve.ts";
import { newBucket } from "../helpers/s3-store.ts";
import { requireClients } from "../helpers/servers.ts";
import { webSocketBridge } from "../helpers/websocket-bridge.ts";

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

describe("the S3 worker example under deno serve", () => {
  test("a write through one worker is in the bucket and reads back through another", async (context) => {
    requireClients(context, "qemu-io", "nbdcopy");
    const bucket = await newBucket(context);
    const env = {
      S3_ENDPOINT: bucket.store.endpoint,
      S3_ACCESS_KEY: bucket.store.accessKey,
      S3_SECRET_KEY: bucket.store.secretKey,
      S3_BUCKET: bucket.name,
      S3_KEY: "vm",
      S3_SIZE: "16M",
    };
    const [first, second] = await Promise.all([
      startDenoServe("examples/s3-worker.ts", env).then(webSocketBridge),
      startDenoServe("examples/s3-worker.ts", env).then(webSocketBridge),
    ]);
    // 1 MiB at 4 MiB: the 64 KiB objects 0x40 … 0x4f; qemu-io flushes before it exits.
    expectSuccess(await run(["qemu-io", "-f", "raw", "-c", "write -P 0x5a 4M 1M", first]));
    const stored = await bucket.list("vm/");
    expect(stored.map(({ key }) => key)).toEqual(
      Array.from({ length: 16 }, (_, i) => `vm/${(0x40 + i).toString(16).padStart(16, "0")}`),
    );
    expect(stored.every(({ size }) => size === 64 * 1024)).toBe(true);
    const read = await run(["qemu-io", "-f", "raw", "-c", "read -P 0x5a 4M 1M", second]);
    expect(expectSuccess(read).stdout).toMatch(/read 1048576\/1048576 bytes/);

    // A whole disk copied in through the second comes out the same through the first.
    const image = randomBytes(16 * 1024 * 1024);
    const source = join(scratchDir(), "in.img");
    const copy = join(scratchDir(), "out.img");
    writeFileSync(source, image);
    expectSuccess(await run(["nbdcopy", source, second]));
    expectSuccess(await run(["nbdcopy", first, copy]));
    expect(sha256(readFileSync(copy))).toBe(sha256(image));
    expect((await bucket.list("vm/")).length).toBe(256);
  });

  test("a bucket that does not exist stops the worker before it serves", async (context) => {
    const bucket = await newBucket(context);
    const started = startDenoServe("examples/s3-worker.ts", {
      S3_ENDPOINT: bucket.store.endpoint,
      S3_ACCESS_KEY: bucket.store.accessKey,
      S3_SECRET_KEY: bucket.store.secretKey,
      S3_BUCKET: `${bucket.name}-missing`,
      S3_KEY: "vm",
      S3_SIZE: "16M",
    });
    await expect(started).rejects.toThrow(`bucket '${bucket.name}-missing' does not exist`);
  });
});
