/**
 * Faults: the S3 store's gateway (radosgw) is killed with SIGKILL while writes are in flight,
 * and started again. Every write the server acknowledged is in the store afterwards (checked in
 * the store itself, not through the plugin); writes during the outage fail with EIO; the server
 * stays up and writes succeed again after the restart. nbdkit's S3 plugin retries inside boto3
 * through a short outage, so there writes wait instead of failing, and only "acknowledged means
 * stored" is checked. With --filter=retry: s3-plugin-rides-out-a-store-restart-with-retry.
 */

import { describe, expect, test } from "vitest";
import { readsBack, writeThroughOutage } from "../helpers/s3-outage.ts";
import { requireClients, servers } from "../helpers/servers.ts";

describe.each(servers)("S3 plugin survives the store restarting ($name)", (server) => {
  test(
    "acknowledged writes are in the store after the gateway is killed and restarted",
    async (context) => {
      requireClients(context, "radosgw", "ceph-mon", "python3", "nbdsh");
      const { acked, failed, missing, nbd } = await writeThroughOutage(context, server, []);
      expect(missing).toEqual([]);
      // nbdkit's plugin (boto3) retries by itself through a short outage: its writes only wait.
      if (server.name !== "nbdkit") {
        expect(failed.length).toBeGreaterThan(0); // the outage was seen as EIO
        expect(Math.max(...acked)).toBeGreaterThan(Math.max(...failed)); // writes work again
      }
      // The server is still serving: a new connection reads an acknowledged write back.
      expect(await readsBack(nbd, Math.max(...acked))).toBe(true);
    },
    180_000,
  );
});
