/**
 * An S3 store that goes away while a server writes to it, for the S3 fault tests: a second
 * throw-away Ceph of the test's own (scripts/s3-local.sh on free ports, so other tests' store
 * never goes down), a server over it writing whole objects i = 0, 1, 2 … (each filled with
 * i % 251 + 1) from a libnbd client, the gateway (radosgw) SIGKILLed 1.5 s in and started again
 * 1.5 s later, and a check, in the store itself, of every write the server acknowledged.
 */

import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TestContext } from "vitest";
import { type BackgroundServer, startServer } from "./background.ts";
import { run, scratchDir } from "./captive.ts";
import { freePort } from "./free-port.ts";
import { S3_LOCAL, signer } from "./s3-store.ts";
import type { Server } from "./servers.ts";

/** The size of each object, and of each write. */
export const OBJECT = 64 * 1024;

/**
 * Writes whole objects, up to 8 in flight and at most 200 a second (failures come back fast:
 * the objects must last past the restart), for `seconds`; prints which were acknowledged.
 */
const WRITER = `
import json, os, sys, time, nbd
h = nbd.NBD()
h.connect_uri(os.environ["uri"])
acked, failed, inflight, i = [], [], {}, 0
OBJECT = ${OBJECT}
def done(n, err):
    (failed if err.value else acked).append(n)
    err.value = 0
    return 1
start = time.monotonic()
end = start + float(sys.argv[1])
while time.monotonic() < end or h.aio_in_flight() > 0:
    while time.monotonic() < end and h.aio_in_flight() < 8 and i < (time.monotonic() - start) * 200:
        buf = nbd.Buffer.from_bytearray(bytearray([i % 251 + 1]) * OBJECT)
        n = i
        h.aio_pwrite(buf, n * OBJECT, completion=lambda err, n=n: done(n, err))
        inflight[n] = buf
        i += 1
    h.poll(5)
print(json.dumps({"acked": acked, "failed": failed}))
`;

export interface Outage {
  /** The writes acknowledged, and those that failed, by object index. */
  readonly acked: number[];
  readonly failed: number[];
  /** Acknowledged writes the store does not hold as written. */
  readonly missing: number[];
  /** The server, still running. */
  readonly nbd: BackgroundServer;
}

/**
 * Serves `filters` in front of the S3 plugin (a 256 MiB disk of 64 KiB objects) on a private
 * store, writes through it for 6 s while the gateway is killed and restarted, then checks the
 * store.
 */
export async function writeThroughOutage(
  context: TestContext,
  server: Server,
  filters: readonly string[],
): Promise<Outage> {
  const dir = scratchDir();
  const env = {
    ...process.env,
    // Beside the scratch directory, not in it: stopping needs its pid files after that is gone.
    S3_LOCAL_DIR: `${dir}-ceph`,
    S3_LOCAL_PORT: String(await freePort()),
    S3_LOCAL_MON_PORT: String(await freePort()),
  };
  const script = (command: string) =>
    execFileSync("bash", [S3_LOCAL, command], { env, encoding: "utf8", timeout: 120_000 });
  const vars = Object.fromEntries(
    script("start").trim().split("\n").map((line) => line.split("=", 2) as [string, string]),
  );
  context.onTestFinished(() => void script("stop"));
  try {
    script("status"); // fails now if start left nothing running
  } catch (error) {
    script("stop");
    throw error;
  }
  const aws = signer(vars.S3_ACCESS_KEY, vars.S3_SECRET_KEY);
  const base = `${vars.S3_ENDPOINT}/fault`;
  const created = await aws.fetch(base, { method: "PUT" });
  if (!created.ok) throw new Error(`Cannot create the bucket: ${created.status}`);

  const nbd = await startServer(server, [
    ...filters,
    "S3",
    `endpoint-url=${vars.S3_ENDPOINT}`,
    `access-key=${vars.S3_ACCESS_KEY}`,
    `secret-key=${vars.S3_SECRET_KEY}`,
    "bucket=fault",
    "key=disk",
    "size=256M",
    `object-size=${OBJECT / 1024}K`,
  ]);
  const writer = join(dir, "writer.py");
  writeFileSync(writer, WRITER);
  const writing = run(["python3", writer, "6"], { env: { uri: nbd.uri }, timeoutMs: 150_000 });
  await new Promise((resolve) => setTimeout(resolve, 1500));
  script("kill-rgw");
  await new Promise((resolve) => setTimeout(resolve, 1500));
  script("start-rgw");
  const result = await writing;
  if (result.status !== 0) throw new Error(`The writer failed: ${result.stderr}`);
  const { acked, failed } = JSON.parse(result.stdout) as { acked: number[]; failed: number[] };
  console.log(`${server.name}: ${acked.length} writes acknowledged, ${failed.length} failed`);

  // Every acknowledged write, read from the store itself.
  const missing: number[] = [];
  for (let at = 0; at < acked.length; at += 16) {
    await Promise.all(
      acked.slice(at, at + 16).map(async (i) => {
        const key = i.toString(16).padStart(16, "0");
        const response = await aws.fetch(`${base}/disk/${key}`);
        const body = new Uint8Array(await response.arrayBuffer());
        if (!response.ok || body.length !== OBJECT || body.some((byte) => byte !== i % 251 + 1)) {
          missing.push(i);
        }
      }),
    );
  }
  return { acked, failed, missing, nbd };
}

/** Reads object `index` back through a new connection: true when it holds what was written. */
export async function readsBack(nbd: BackgroundServer, index: number): Promise<boolean> {
  const read = await run([
    "nbdsh",
    "-u",
    nbd.uri,
    "-c",
    `print(h.pread(${OBJECT}, ${index * OBJECT}) == bytes([${index % 251 + 1}]) * ${OBJECT})`,
  ]);
  return read.stdout.trim() === "True";
}
