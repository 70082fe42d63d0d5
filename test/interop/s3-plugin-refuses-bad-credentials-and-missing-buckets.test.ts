/**
 * S3, on the local Ceph RADOS Gateway: a wrong secret key, an unknown access key or a bucket that
 * does not exist stops the server before it listens, with one line saying which; parameters are
 * checked in nbdkit's words. nbdkit's S3 plugin learns of a bad secret or bucket only when a
 * client connects (the client's open fails), so those tests run against nbdts alone.
 */

import { describe, expect, test } from "vitest";
import { captive } from "../helpers/captive.ts";
import { newBucket } from "../helpers/s3-store.ts";
import { servers } from "../helpers/servers.ts";

const ours = servers.filter((server) => server.name.startsWith("nbdts"));
if (ours.length === 0) test.skip("S3 start-up checks: no nbdts server is selected", () => {});

describe.each(ours)("S3 plugin refuses bad credentials and missing buckets ($name)", (server) => {
  test("a wrong secret key stops the server at start-up, saying so", async (context) => {
    const bucket = await newBucket(context);
    const plugin = bucket.plugin("disk", "size=1M", "object-size=64K")
      .map((arg) => arg.startsWith("secret-key=") ? "secret-key=wrong" : arg);
    const result = await captive(server, plugin, "echo ran");
    expect(result.status).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain(
      `the store at ${bucket.store.endpoint} refused the credentials: SignatureDoesNotMatch`,
    );
  });

  test("an unknown access key is refused the same way", async (context) => {
    const bucket = await newBucket(context);
    const plugin = bucket.plugin("disk").map((arg) =>
      arg.startsWith("access-key=") ? "access-key=NOSUCHKEY" : arg
    );
    const result = await captive(server, plugin, "echo ran");
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("refused the credentials: InvalidAccessKeyId");
  });

  test("a missing bucket stops the server at start-up, naming it", async (context) => {
    const bucket = await newBucket(context);
    const plugin = bucket.plugin("disk").map((arg) =>
      arg.startsWith("bucket=") ? "bucket=no-such-bucket-here" : arg
    );
    const result = await captive(server, plugin, "echo ran");
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      `bucket 'no-such-bucket-here' does not exist at ${bucket.store.endpoint}`,
    );
  });

  test("size= without object-size= is refused in nbdkit's words", async () => {
    const result = await captive(server, ["S3", "bucket=b", "key=k", "size=1M"], "echo ran");
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      "`size` and `object-size` parameters must always be specified together",
    );
  });
});
