/**
 * Faults, with --filter=retry: the S3 store's gateway is SIGKILLed while writes are in flight
 * and started again 1.5 s later. The retry filter (retries=5, first wait 2 s) reopens the plugin
 * and sends each failed write again once the gateway is back, so no write fails, and every one
 * acknowledged is in the store (checked in the store itself). nbdkit's retry filter over its own
 * S3 plugin is held to the same.
 */

import { describe, expect, test } from "vitest";
import { readsBack, writeThroughOutage } from "../helpers/s3-outage.ts";
import { requireClients, servers } from "../helpers/servers.ts";

describe.each(servers)(
  "S3 plugin with --filter=retry rides out a store restart ($name)",
  (server) => {
    test(
      "no write fails, and every acknowledged write is in the store",
      async (context) => {
        requireClients(context, "radosgw", "ceph-mon", "python3", "nbdsh");
        const outage = await writeThroughOutage(context, server, ["--filter=retry"]);
        expect(outage.failed).toEqual([]);
        expect(outage.acked.length).toBeGreaterThan(0);
        expect(outage.missing).toEqual([]);
        expect(await readsBack(outage.nbd, Math.max(...outage.acked))).toBe(true);
      },
      240_000,
    );
  },
);
