// The file plugin (src/plugins/file.ts) through the plugin API, over a stand-in host whose
// files live in memory and whose reads and writes move at most a few bytes at a time.

import { describe, expect, test } from "vitest";
import { ConfigError, NbdError } from "../../src/api/errors.ts";
import type { DiskFile, FileKind, PluginHost } from "../../src/io.ts";
import { createFilePlugin } from "../../src/plugins/file.ts";
import { FLAG, type Plugin } from "../../src/api/plugin.ts";

interface FakeHost extends PluginHost {
  syncs: number;
  files: Record<string, Uint8Array>;
}

/** Paths ending in "/" are directories; everything in `files` is a regular file. */
function fakeHost(
  files: Record<string, Uint8Array>,
  readonlyPaths: string[] = [],
  sparse: Partial<DiskFile> = {},
): FakeHost {
  const kindOf = (path: string): FileKind | undefined =>
    path in files
      ? "file"
      : Object.keys(files).some((name) => name.startsWith(`${path}/`))
      ? "directory"
      : undefined;
  const host: FakeHost = {
    syncs: 0,
    files,
    realpath: (path) => kindOf(path) ? Promise.resolve(path) : Promise.reject(new Error("ENOENT")),
    openReadOnly: () => Promise.reject(new Error("unused")),
    readFile: () => Promise.reject(new Error("unused")),
    runCommand: () => Promise.reject(new Error("unused")),
    getEnv: () => undefined,
    fileKind: (path) => {
      const kind = kindOf(path);
      return kind ? Promise.resolve(kind) : Promise.reject(new Error("No such file or directory"));
    },
    openFile(path, readonly) {
      if (kindOf(path) !== "file") return Promise.reject(new Error("not a regular file"));
      const file: DiskFile = {
        readonly: readonly || readonlyPaths.includes(path),
        kind: "file",
        size: () => Promise.resolve(files[path]!.length),
        read(buf, offset) {
          const piece = files[path]!.subarray(offset, offset + Math.min(3, buf.length));
          buf.set(piece);
          return Promise.resolve(piece.length);
        },
        write(buf, offset) {
          const n = Math.min(3, buf.length);
          files[path]!.set(buf.subarray(0, n), offset);
          return Promise.resolve(n);
        },
        sync: () => {
          host.syncs++;
          return Promise.resolve();
        },
        close: () => Promise.resolve(),
        ...sparse,
      };
      return Promise.resolve(file);
    },
    listDirectory(path) {
      const names = Object.keys(files).filter((name) => name.startsWith(`${path}/`))
        .map((name) => name.slice(path.length + 1).split("/")[0]!);
      return Promise.resolve([...new Set(names)].map((name) => ({
        name,
        kind: kindOf(`${path}/${name}`)!,
      })));
    },
  };
  return host;
}

async function configured(plugin: Plugin, params: [string, string][]): Promise<Plugin> {
  for (const [key, value] of params) await plugin.config?.(key, value);
  await plugin.configComplete?.();
  return plugin;
}

describe("file plugin", () => {
  test("reads and writes through short transfers, and FUA syncs", async () => {
    const host = fakeHost({ "/d.img": new TextEncoder().encode("0123456789") });
    const plugin = await configured(createFilePlugin(host), [["file", "/d.img"]]);
    const handle = await plugin.open(false, "");
    const buf = new Uint8Array(7);
    await handle.readAt(buf, 2);
    expect(new TextDecoder().decode(buf)).toBe("2345678");
    await handle.writeAt!(new TextEncoder().encode("abcdefg"), 1, FLAG.FUA);
    expect(new TextDecoder().decode(host.files["/d.img"])).toBe("0abcdefg89");
    expect(host.syncs).toBe(1);
    await handle.flush!(0);
    expect(host.syncs).toBe(2);
    expect(await handle.canWrite!()).toBe(true);
  });

  test("a file the host opens read-only gives a read-only handle", async () => {
    const host = fakeHost({ "/d.img": new Uint8Array(8) }, ["/d.img"]);
    const plugin = await configured(createFilePlugin(host), [["file", "/d.img"]]);
    expect(await (await plugin.open(false, "")).canWrite!()).toBe(false);
  });

  test("dir= lists regular files and refuses other names", async () => {
    const host = fakeHost({
      "/dir/a": new Uint8Array(1),
      "/dir/b": new Uint8Array(2),
      "/dir/sub/c": new Uint8Array(3),
    });
    const plugin = await configured(createFilePlugin(host), [["dir", "/dir"]]);
    expect(await plugin.listExports!(false)).toEqual([{ name: "a" }, { name: "b" }]);
    expect(await (await plugin.open(false, "b")).getSize()).toBe(2);
    for (const name of ["", ".", "..", "sub", "sub/c", "../dir/a", "missing"]) {
      await expect(plugin.open(false, name)).rejects.toThrow(NbdError);
    }
  });

  test("without fallocate and SEEK_HOLE, trim and extents are off and zero is written", async () => {
    const host = fakeHost({ "/d.img": new Uint8Array(8) });
    const handle = await (await configured(createFilePlugin(host), [["file", "/d.img"]])).open(
      false,
      "",
    );
    expect(await handle.canTrim!()).toBe(false);
    expect(await handle.canZero!()).toBe(false);
    expect(await handle.canFastZero!()).toBe(false);
    expect(await handle.canExtents!()).toBe(false);
  });

  test("with them, trim punches, zero zeroes and extents show the holes", async () => {
    const calls: string[] = [];
    const host = fakeHost({ "/d.img": new Uint8Array(8192) }, [], {
      punchHole: (offset, count) => void calls.push(`punch ${offset} ${count}`),
      zeroRange: (offset, count) => void calls.push(`zero ${offset} ${count}`),
      nextData: (offset) => offset < 4096 ? 4096 : offset < 8192 ? offset : undefined,
      nextHole: (offset) => offset < 4096 ? offset : 8192,
    });
    const plugin = await configured(createFilePlugin(host), [["file", "/d.img"]]);
    const handle = await plugin.open(false, "");
    expect(await handle.canTrim!()).toBe(true);
    expect(await handle.canZero!()).toBe(true);
    expect(await handle.canFastZero!()).toBe(false);
    expect(await handle.canExtents!()).toBe(true);
    await handle.trim!(512, 1024, FLAG.FUA);
    await handle.zero!(512, 2048, 0);
    expect(calls).toEqual(["punch 1024 512", "zero 2048 512"]);
    expect(host.syncs).toBe(1);
    const extents: number[][] = [];
    await handle.extents!(8192, 0, 0, { add: (...args) => void extents.push(args.map(Number)) });
    expect(extents).toEqual([[0, 4096, 3], [4096, 4096, 0]]);
  });

  test("file mode lists the default export alone", async () => {
    const plugin = await configured(createFilePlugin(fakeHost({ "/d.img": new Uint8Array(1) })), [
      ["file", "/d.img"],
    ]);
    expect(await plugin.listExports!(false)).toEqual([{ name: "" }]);
  });

  test("parameters are checked", async () => {
    const host = fakeHost({ "/dir/a": new Uint8Array(1) });
    await expect(configured(createFilePlugin(host), [])).rejects.toThrow(/you must supply/);
    await expect(configured(createFilePlugin(host), [["file", "/dir"]])).rejects.toThrow(
      /use dir=/,
    );
    await expect(configured(createFilePlugin(host), [["dir", "/dir/a"]])).rejects.toThrow(
      /expecting a directory/,
    );
    await expect(configured(createFilePlugin(host), [["file", "/dir/a"], ["fadvise", "x"]])).rejects
      .toThrow(ConfigError);
    await expect(configured(createFilePlugin(), [["file", "/dir/a"]])).rejects.toThrow(
      /no file access/,
    );
  });
});
