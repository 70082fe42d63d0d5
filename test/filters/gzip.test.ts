import { gzipSync } from "node:zlib";
import { describe, expect, test } from "vitest";
import { applyParams, finishConfiguration } from "../../src/backend/configure.ts";
import { Backend } from "../../src/backend/backend.ts";
import { stackFilters } from "../../src/backend/filter-stack.ts";
import { createGzipFilter } from "../../src/filters/gzip.ts";
import type { DiskFile, PluginHost } from "../../src/io.ts";
import { failure } from "../helpers/filtered.ts";
import { ramPlugin } from "../helpers/ram-plugin.ts";

/** A host whose temporary files live in memory; it records where each was asked for. */
function memoryHost(env: Record<string, string>, refuse?: string) {
  const directories: string[] = [];
  const host = {
    getEnv: (name: string) => env[name],
    createTempFile(directory: string): Promise<DiskFile> {
      directories.push(directory);
      if (refuse) return Promise.reject(new Error(refuse));
      let bytes = new Uint8Array(0);
      return Promise.resolve({
        readonly: false,
        kind: "file",
        size: () => Promise.resolve(bytes.length),
        read(buf: Uint8Array, offset: number) {
          const piece = bytes.subarray(offset, offset + buf.length);
          buf.set(piece);
          return Promise.resolve(piece.length);
        },
        write(buf: Uint8Array, offset: number) {
          if (offset + buf.length > bytes.length) {
            const grown = new Uint8Array(offset + buf.length);
            grown.set(bytes);
            bytes = grown;
          }
          bytes.set(buf, offset);
          return Promise.resolve(buf.length);
        },
        sync: () => Promise.resolve(),
        close: () => Promise.resolve(),
      });
    },
  } as unknown as PluginHost;
  return { host, directories };
}

/** The gzip filter over a RAM disk holding exactly `compressed`. */
async function gzipStack(compressed: Uint8Array, host: PluginHost) {
  const ram = ramPlugin({ size: compressed.length });
  ram.write(0, compressed);
  const top = stackFilters([createGzipFilter(host)], ram.plugin);
  await top.load?.();
  await applyParams(top, []);
  await finishConfiguration(top);
  return { top, ram };
}

const SOURCE = new TextEncoder().encode("nbdts ".repeat(300_000)); // 1.8 MB: several pieces

describe("gzip filter", () => {
  test("the first connection expands into one file in $TMPDIR, shared by the next", async () => {
    const { host, directories } = memoryHost({ TMPDIR: "/scratch" });
    const { top, ram } = await gzipStack(gzipSync(SOURCE), host);
    const first = await Backend.open(top, false, "");
    const readsAfterFirst = ram.callsOf("readAt").length;
    const second = await Backend.open(top, false, "");
    expect(ram.callsOf("readAt").length).toBe(readsAfterFirst); // no second expansion
    expect(directories).toEqual(["/scratch"]);
    for (const backend of [first, second]) {
      const buf = new Uint8Array(SOURCE.length);
      await backend.readAt(buf, 0);
      expect(Buffer.from(buf).equals(SOURCE)).toBe(true);
    }
  });

  test("without TMPDIR the file goes in /var/tmp; a refusal is nbdkit's mkostemp message", async () => {
    const { host, directories } = memoryHost({}, "Permission denied");
    const { top } = await gzipStack(gzipSync(SOURCE), host);
    expect(String(await failure(() => Backend.open(top, false, "")))).toContain(
      "mkostemp: /var/tmp: Permission denied",
    );
    // The next connection tries again.
    await failure(() => Backend.open(top, false, ""));
    expect(directories).toEqual(["/var/tmp", "/var/tmp"]);
  });

  test("data that is not gzip fails the connection as inflate does", async () => {
    const { host } = memoryHost({});
    const { top } = await gzipStack(SOURCE.subarray(0, 4096), host);
    expect(String(await failure(() => Backend.open(top, false, "")))).toContain("gzip: inflate: ");
  });

  test("a runtime without temporary files refuses the filter when it loads", async () => {
    const top = stackFilters([createGzipFilter(undefined)], ramPlugin().plugin);
    expect(String(await failure(() => top.load?.()))).toContain(
      "this runtime offers no temporary files",
    );
  });
});
