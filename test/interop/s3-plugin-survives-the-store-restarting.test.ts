/**
 * Faults: the S3 store's gateway (radosgw) is killed with SIGKILL while writes are in flight,
 * and started again. Every write the server acknowledged is in the store afterwards (checked in
 * the store itself, not through the plugin); writes during the outage fail with EIO; the server
 * stays up and writes succeed again after the restart. The store here is a second throw-away
 * Ceph of its own (scripts/s3-local.sh on other ports), so other tests' store never goes down.
 * nbdkit's S3 plugin retries inside boto3 through a short outage, so there writes wait instead
 * of failing, and only "acknowledged means stored" is checked.
 * nbdts has no retry filter yet, so only the plain plugin is tested.
 */

import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { startServer } from "../helpers/background.ts";
import { run, scratchDir } from "../helpers/captive.ts";
import { S3_LOCAL, signer } from "../helpers/s3-store.ts";
import { requireClients, servers } from "../helpers/servers.ts";

const OBJECT = 64 * 1024;

/** A TCP port nobody listens on now. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Writes whole objects i = 0, 1, 2 … (each filled with i % 251 + 1), up to 8 in flight and at
 * most 200 a second (failures come back fast: the objects must last past the restart), for
 * `seconds`.
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

describe.each(servers)("S3 plugin survives the store restarting ($name)", (server) => {
  test(
    "acknowledged writes are in the store after the gateway is killed and restarted",
    async (context) => {
      requireClients(context, "radosgw", "ceph-mon", "python3");
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
      expect((await aws.fetch(base, { method: "PUT" })).ok).toBe(true);

      const nbd = await startServer(server, [
        "S3",
        `endpoint-url=${vars.S3_ENDPOINT}`,
        `access-key=${vars.S3_ACCESS_KEY}`,
        `secret-key=${vars.S3_SECRET_KEY}`,
        "bucket=fault",
        "key=disk",
        "size=256M",
        "object-size=64K",
      ]);
      const writer = join(dir, "writer.py");
      writeFileSync(writer, WRITER);
      const writing = run(["python3", writer, "6"], { env: { uri: nbd.uri }, timeoutMs: 90_000 });
      await new Promise((resolve) => setTimeout(resolve, 1500));
      script("kill-rgw");
      await new Promise((resolve) => setTimeout(resolve, 1500));
      script("start-rgw");
      const result = await writing;
      expect(result.status, result.stderr).toBe(0);
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
            if (
              !response.ok || body.length !== OBJECT || body.some((byte) => byte !== i % 251 + 1)
            ) {
              missing.push(i);
            }
          }),
        );
      }
      expect(missing).toEqual([]);
      // nbdkit's plugin (boto3) retries by itself through a short outage: its writes only wait.
      if (server.name !== "nbdkit") {
        expect(failed.length).toBeGreaterThan(0); // the outage was seen as EIO
        expect(Math.max(...acked)).toBeGreaterThan(Math.max(...failed)); // writes work again
      }
      // The server is still serving: a new connection reads an acknowledged write back.
      const last = Math.max(...acked);
      const read = await run([
        "nbdsh",
        "-u",
        nbd.uri,
        "-c",
        `print(h.pread(${OBJECT}, ${last * OBJECT}) == bytes([${last % 251 + 1}]) * ${OBJECT})`,
      ]);
      expect(read.stdout.trim()).toBe("True");
    },
    180_000,
  );
});
