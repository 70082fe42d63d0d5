/**
 * NBD from a Worker-style fetch handler, the disk kept in an S3 bucket: every WebSocket upgrade
 * request becomes one NBD connection to a disk of objects `KEY/NNNNNNNNNNNNNNNN` (the S3
 * plugin, as `nbdts S3 …` serves it). Nothing here opens a socket or a file: requests to the
 * store are signed with aws4fetch and sent with fetch. Runs with
 *
 *   S3_ENDPOINT=http://127.0.0.1:7480 S3_ACCESS_KEY=… S3_SECRET_KEY=… S3_BUCKET=disks \
 *     S3_KEY=vm1 S3_SIZE=1G deno serve -A examples/s3-worker.ts
 *
 * (`scripts/s3-local.sh start` prints the first three for a local Ceph). S3_OBJECT_SIZE is 64K
 * unless set. Any number of such workers may serve the same disk: a write one acknowledged, or
 * a FLUSH it answered, is read by every other (README, "Many servers, one bucket").
 */

import { createServer, type UpgradePolicy } from "../src/edge.ts";
import { createS3Plugin } from "../src/plugins/s3.ts";
import { webSocketHandler } from "./websocket-handler.ts";

/** A setting from the environment: Deno's here; on Cloudflare, the handler's `env` instead. */
function setting(name: string, fallback?: string): string {
  const env = (globalThis as { Deno?: { env: { get(name: string): string | undefined } } }).Deno
    ?.env;
  const value = env?.get(name) ?? fallback;
  if (value === undefined) throw new Error(`s3-worker: set ${name}`);
  return value;
}

// Lists the bucket once before serving: a wrong key or a missing bucket fails here, with why.
const nbd = await createServer(createS3Plugin(), {
  params: {
    "endpoint-url": setting("S3_ENDPOINT"),
    "access-key": setting("S3_ACCESS_KEY"),
    "secret-key": setting("S3_SECRET_KEY"),
    bucket: setting("S3_BUCKET"),
    key: setting("S3_KEY"),
    size: setting("S3_SIZE"),
    "object-size": setting("S3_OBJECT_SIZE", "64K"),
  },
});

/** Programs (no Origin header) are served; no web page is. */
const policy: UpgradePolicy = { allowOrigins: [] };

export default { fetch: webSocketHandler(nbd, policy) };
