/**
 * nbdcopy, libnbd's parallel copier (several connections, many requests in flight), copies
 * 64 MiB of random data into the server and back out unchanged.
 */

import { createHash, randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { captive, expectSuccess, scratchDir } from "../helpers/captive.ts";
import { requireClients, servers } from "../helpers/servers.ts";

const MiB = 1024 * 1024;
const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");

describe.each(servers)("nbdcopy round trip ($name)", (server) => {
  test("64 MiB of random data copied file to server to file keeps its sha256", async (context) => {
    requireClients(context, "nbdcopy");
    const dir = scratchDir();
    const source = join(dir, "source.img");
    const copy = join(dir, "copy.img");
    const data = randomBytes(64 * MiB);
    writeFileSync(source, data);
    const script = `nbdcopy '${source}' "$uri" && nbdcopy "$uri" '${copy}'`;
    expectSuccess(await captive(server, ["memory", "64M"], script, { timeoutMs: 50_000 }));
    expect(sha256(readFileSync(copy))).toBe(sha256(data));
  });

  test("a sparse image keeps its zeroes and data through nbdcopy", async (context) => {
    requireClients(context, "nbdcopy");
    const dir = scratchDir();
    const source = join(dir, "source.img");
    const copy = join(dir, "copy.img");
    const data = new Uint8Array(16 * MiB);
    data.set(randomBytes(MiB), 3 * MiB);
    data.set(randomBytes(12345), 10 * MiB + 7);
    writeFileSync(source, data);
    const script = `nbdcopy '${source}' "$uri" && nbdcopy "$uri" '${copy}'`;
    expectSuccess(await captive(server, ["memory", "16M"], script));
    expect(sha256(readFileSync(copy))).toBe(sha256(data));
  });
});
