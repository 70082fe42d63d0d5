// nbdkit's example plugins ported (src/plugins/example1.ts … example4.ts), through the plugin
// API: example2 serves a file through a stand-in file system, since the core has none to give.

import { describe, expect, test } from "vitest";
import { ConfigError, NbdError } from "../../src/api/errors.ts";
import { createExample1Plugin } from "../../src/plugins/example1.ts";
import type { ReadableFile } from "../../src/io.ts";
import { createExample2Plugin, type FileAccess } from "../../src/plugins/example2.ts";
import { createExample3Plugin } from "../../src/plugins/example3.ts";
import { createExample4Plugin } from "../../src/plugins/example4.ts";
import { type Plugin, THREAD_MODEL } from "../../src/api/plugin.ts";

async function configured(plugin: Plugin, params: Record<string, string>): Promise<Plugin> {
  await plugin.load?.();
  for (const [key, value] of Object.entries(params)) await plugin.config?.(key, value);
  await plugin.configComplete?.();
  await plugin.getReady?.();
  return plugin;
}

/** Files held in memory; each read returns at most `chunk` bytes, as a real pread may. */
function memoryFiles(files: Record<string, Uint8Array>, chunk = 3): FileAccess & { open: number } {
  const access = {
    open: 0,
    realpath(path: string) {
      const absolute = path.startsWith("/") ? path : `/work/${path}`;
      if (!(absolute in files)) return Promise.reject(new Error("No such file or directory"));
      return Promise.resolve(absolute);
    },
    openReadOnly(path: string): Promise<ReadableFile> {
      const bytes = files[path];
      access.open++;
      return Promise.resolve({
        size: () => Promise.resolve(bytes.length),
        read(buf: Uint8Array, offset: number) {
          const n = Math.max(0, Math.min(chunk, buf.length, bytes.length - offset));
          buf.set(bytes.subarray(offset, offset + n));
          return Promise.resolve(n);
        },
        close() {
          access.open--;
          return Promise.resolve();
        },
      });
    },
  };
  return access;
}

describe("example1", () => {
  test("serves 100 MB read-only: a boot record, then zeroes, one request at a time", async () => {
    const plugin = await configured(createExample1Plugin(), {});
    expect(plugin.config).toBeUndefined();
    expect(await plugin.threadModel?.()).toBe(THREAD_MODEL.SERIALIZE_ALL_REQUESTS);
    const handle = await plugin.open(true, "");
    expect(await handle.getSize()).toBe(104857600);
    expect(handle.writeAt).toBeUndefined();
    const sector = new Uint8Array(512);
    await handle.readAt(sector, 0);
    expect([sector[0], sector[510], sector[511], sector[0x1c2]]).toEqual([0xfa, 0x55, 0xaa, 0x83]);
    const tail = new Uint8Array(4096).fill(1);
    await handle.readAt(tail, 104857600 - 4096);
    expect(tail.every((b) => b === 0)).toBe(true);
  });
});

describe("example2", () => {
  const hello = new TextEncoder().encode("hello, world\n");

  test("serves the file read-only, looping over short reads", async () => {
    const files = memoryFiles({ "/work/hello.txt": hello });
    const plugin = await configured(createExample2Plugin(files), { file: "hello.txt" });
    expect(await plugin.dumpPlugin?.()).toEqual(["example2_extra=hello"]);
    expect(await plugin.threadModel?.()).toBe(THREAD_MODEL.SERIALIZE_ALL_REQUESTS);
    const handle = await plugin.open(false, "");
    expect(files.open).toBe(1);
    expect(await handle.getSize()).toBe(hello.length);
    expect(handle.writeAt).toBeUndefined();
    const buf = new Uint8Array(10);
    await handle.readAt(buf, 2);
    expect(new TextDecoder().decode(buf)).toBe("llo, world");
    await handle.close?.();
    expect(files.open).toBe(0);
  });

  test("a read past the end of a shrunken file fails with EIO", async () => {
    const files = memoryFiles({ "/f": hello });
    const handle = await (await configured(createExample2Plugin(files), { file: "/f" })).open(
      false,
      "",
    );
    await expect(handle.readAt(new Uint8Array(5), hello.length - 2)).rejects.toThrow(
      new NbdError("EIO", "pread: unexpected end of file"),
    );
  });

  test("needs file=, which must exist; refuses other parameters", async () => {
    const files = memoryFiles({});
    await expect(configured(createExample2Plugin(files), {})).rejects.toThrow(
      /you must supply the file=<FILENAME> parameter/,
    );
    await expect(configured(createExample2Plugin(files), { file: "nope" })).rejects.toThrow(
      new ConfigError("realpath: nope: No such file or directory"),
    );
    await expect(configured(createExample2Plugin(files), { colour: "blue" })).rejects.toThrow(
      /unknown parameter 'colour'/,
    );
  });

  test("without file access, it says so instead of serving", async () => {
    await expect(configured(createExample2Plugin(), { file: "/f" })).rejects.toThrow(
      /no file access/,
    );
  });
});

describe("example3", () => {
  test("each connection gets its own empty 100M disk, and can flush", async () => {
    const plugin = await configured(createExample3Plugin(), {});
    expect(await plugin.dumpPlugin?.()).toEqual(["example3_extra=hello"]);
    const first = await plugin.open(false, "");
    const second = await plugin.open(false, "");
    expect(await first.getSize()).toBe(100 * 1024 * 1024);
    await first.writeAt?.(new Uint8Array([1, 2, 3]), 50, 0);
    const buf = new Uint8Array(3);
    await second.readAt(buf, 50);
    expect([...buf]).toEqual([0, 0, 0]);
    await first.readAt(buf, 50);
    expect([...buf]).toEqual([1, 2, 3]);
    // flush() and no canFua: the server accepts FUA and flushes after such writes
    expect(first.flush).toBeDefined();
    expect(first.canFua).toBeUndefined();
    await first.close?.();
  });

  test("size= takes nbdkit's size suffixes", async () => {
    const handle = await (await configured(createExample3Plugin(), { size: "2G" })).open(false, "");
    expect(await handle.getSize()).toBe(2 ** 31);
  });
});

describe("example4", () => {
  test("size is required and read as Perl's int() reads it", async () => {
    await expect(configured(createExample4Plugin(), {})).rejects.toThrow(
      new ConfigError("size was not set"),
    );
    await expect(configured(createExample4Plugin(), { colour: "x" })).rejects.toThrow(
      new ConfigError("unknown parameter colour"),
    );
    const sizes = [];
    for (const size of ["4096", "1M", "2.9", " 77", "1e3", "-5", "abc"]) {
      const handle = await (await configured(createExample4Plugin(), { size })).open(false, "");
      sizes.push(await handle.getSize());
    }
    expect(sizes).toEqual([4096, 1, 2, 77, 1000, 0, 0]);
  });

  test("one zeroed disk shared by every handle, read-only as nbdkit serves the script", async () => {
    const plugin = await configured(createExample4Plugin(), { size: "1024" });
    expect(await plugin.dumpPlugin?.()).toEqual(["example4_extra=hello"]);
    expect(await plugin.threadModel?.()).toBe(THREAD_MODEL.SERIALIZE_ALL_REQUESTS);
    const first = await plugin.open(false, "");
    const second = await plugin.open(false, "");
    expect(await first.canWrite?.()).toBe(false);
    // writeAt is the script's pwrite: nbdkit never calls it, but it works when called
    await first.writeAt?.(new Uint8Array([9, 9]), 100, 0);
    const buf = new Uint8Array(4);
    await second.readAt(buf, 99);
    expect([...buf]).toEqual([0, 9, 9, 0]);
  });
});
