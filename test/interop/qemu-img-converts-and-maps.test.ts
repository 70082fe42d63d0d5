/**
 * qemu-img copies an image into and out of the server, compares it, and maps which ranges
 * hold data and which read as zeroes.
 */

import { createHash, randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { captive, expectSuccess, scratchDir } from "../helpers/captive.ts";
import { requireClients, servers } from "../helpers/servers.ts";

const MiB = 1024 * 1024;
const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");

interface QemuMapEntry {
  start: number;
  length: number;
  data: boolean;
  zero: boolean;
}

/** The qemu-img map entry covering `offset`. */
function entryAt(map: QemuMapEntry[], offset: number): QemuMapEntry | undefined {
  return map.find((entry) => entry.start <= offset && offset < entry.start + entry.length);
}

describe.each(servers)("qemu-img converts and maps ($name)", (server) => {
  test("an 8 MiB random image converted in and back out is unchanged", async (context) => {
    requireClients(context, "qemu-img");
    const dir = scratchDir();
    const source = join(dir, "source.img");
    const copy = join(dir, "copy.img");
    const data = randomBytes(8 * MiB);
    writeFileSync(source, data);
    const script = [
      `qemu-img convert -n -f raw -O raw '${source}' "$uri"`,
      `qemu-img compare -f raw -F raw '${source}' "$uri"`,
      `qemu-img convert -f raw -O raw "$uri" '${copy}'`,
    ].join(" && ");
    const result = expectSuccess(await captive(server, ["memory", "8M"], script));
    expect(result.stdout).toMatch(/Images are identical/);
    expect(sha256(readFileSync(copy))).toBe(sha256(data));
  });

  test("qemu-img compare notices a difference", async (context) => {
    requireClients(context, "qemu-img");
    const source = join(scratchDir(), "source.img");
    writeFileSync(source, randomBytes(MiB));
    const result = await captive(
      server,
      ["memory", "1M"],
      `qemu-img compare -f raw -F raw '${source}' "$uri"`,
    );
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/Content mismatch/);
  });

  test("qemu-img map shows the copied range as data and the rest as zero", async (context) => {
    requireClients(context, "qemu-img");
    const source = join(scratchDir(), "source.img");
    writeFileSync(source, randomBytes(4 * MiB));
    const script = [
      `qemu-img convert -n -f raw -O raw '${source}' "$uri"`,
      'qemu-img map --output=json -f raw "$uri"',
    ].join(" && ");
    const result = expectSuccess(await captive(server, ["memory", "32M"], script));
    const map = JSON.parse(result.stdout) as QemuMapEntry[];
    expect(map.at(-1)!.start + map.at(-1)!.length).toBe(32 * MiB);
    for (const offset of [0, MiB, 4 * MiB - 1]) {
      expect(entryAt(map, offset), `at ${offset}`).toMatchObject({ data: true, zero: false });
    }
    for (const offset of [8 * MiB, 16 * MiB, 32 * MiB - 1]) {
      expect(entryAt(map, offset), `at ${offset}`).toMatchObject({ data: false, zero: true });
    }
  });

  test("qemu-img info reports the virtual size", async (context) => {
    requireClients(context, "qemu-img");
    const result = expectSuccess(
      await captive(server, ["memory", "32M"], 'qemu-img info --output=json -f raw "$uri"'),
    );
    expect(JSON.parse(result.stdout)).toMatchObject({ "virtual-size": 32 * MiB, format: "raw" });
  });
});
