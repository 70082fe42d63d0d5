/**
 * The S3 store the S3 workloads of `npm run bench` use: a throw-away one-node Ceph RADOS Gateway
 * of the bench's own (scripts/s3-local.sh in a private directory, on free ports, so no test's
 * store is shared or stopped), and one bucket in it that nbdts's and nbdkit's S3 plugins serve
 * the same disk from. Emptied and stopped when the bench ends.
 */

import { execFileSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { AwsClient } from "aws4fetch";

const S3_LOCAL = fileURLToPath(new URL("./s3-local.sh", import.meta.url));

/** A TCP port nobody listens on now. */
async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function ok(response, what) {
  if (!response.ok) throw new Error(`${what}: ${response.status} ${await response.text()}`);
  return response;
}

/**
 * Starts the store (installing Ceph with apt if needed) and makes a bucket; resolves to
 * { plugin(key, size, objectSize), empty(), stop() }. Rejects with the script's reason.
 */
export async function startS3Store() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "nbdts-bench-ceph-"));
  fs.rmdirSync(dir); // the script makes it, and refuses a directory it did not make
  const env = {
    ...process.env,
    S3_LOCAL_DIR: dir,
    S3_LOCAL_PORT: String(await freePort()),
    S3_LOCAL_MON_PORT: String(await freePort()),
  };
  const script = (command) =>
    execFileSync("bash", [S3_LOCAL, command], {
      env,
      encoding: "utf8",
      timeout: 600_000,
      stdio: ["ignore", "pipe", "pipe"],
    });
  let vars;
  try {
    vars = Object.fromEntries(
      script("start").trim().split("\n").map((line) => line.split("=", 2)),
    );
  } catch (error) {
    try {
      script("stop");
    } catch {
      // nothing was left running
    }
    throw new Error(`scripts/s3-local.sh start failed: ${String(error.stderr ?? error).trim()}`);
  }
  const aws = new AwsClient({
    accessKeyId: vars.S3_ACCESS_KEY,
    secretAccessKey: vars.S3_SECRET_KEY,
    service: "s3",
    region: "us-east-1",
    retries: 0,
  });
  const bucket = `${vars.S3_ENDPOINT}/bench`;
  await ok(await aws.fetch(bucket, { method: "PUT" }), "create the bucket");
  return {
    /** The S3 plugin's arguments (nbdkit's names) for a disk of `size` at `key`. */
    plugin: (key, size, objectSize) => [
      "S3",
      `endpoint-url=${vars.S3_ENDPOINT}`,
      `access-key=${vars.S3_ACCESS_KEY}`,
      `secret-key=${vars.S3_SECRET_KEY}`,
      "bucket=bench",
      `key=${key}`,
      `size=${size}`,
      `object-size=${objectSize}`,
    ],
    /** Deletes every object (the OSD keeps them in memory); a store that stops answering fails. */
    async empty() {
      const signal = AbortSignal.timeout(300_000);
      for (;;) {
        const listing = await (await ok(
          await aws.fetch(`${bucket}?list-type=2&max-keys=1000`, { signal }),
          "list the bucket",
        )).text();
        const keys = [...listing.matchAll(/<Key>(.*?)<\/Key>/g)].map((match) => match[1]);
        if (keys.length === 0) return;
        for (let at = 0; at < keys.length; at += 32) {
          await Promise.all(
            keys.slice(at, at + 32).map((key) =>
              aws.fetch(`${bucket}/${key}`, { method: "DELETE", signal }).then((r) =>
                r.body?.cancel()
              )
            ),
          );
        }
      }
    },
    stop: () => void script("stop"),
  };
}
