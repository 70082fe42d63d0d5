import { describe, expect, test } from "vitest";
import { Extents } from "../../../src/api/extents.ts";
import { EXTENT } from "../../../src/api/plugin.ts";
import { createExtentlistFilter } from "../../../src/filters/extentlist/extentlist.ts";
import type { PluginHost } from "../../../src/io.ts";
import { failure, filtered } from "../../helpers/filtered.ts";
import { ramPlugin } from "../../helpers/ram-plugin.ts";

/** A host whose only file is `files[path]`. */
function hostWith(files: Record<string, string>): PluginHost {
  return {
    readFile(path: string) {
      if (!(path in files)) return Promise.reject(new Error("No such file or directory"));
      return Promise.resolve(new TextEncoder().encode(files[path]));
    },
  } as unknown as PluginHost;
}

describe("extentlist filter", () => {
  test("block status comes from the file, even over a plugin without extents", async () => {
    const host = hostWith({ "/list": "4096 4096\n65536 1M hole\n" });
    const ram = ramPlugin({ omit: ["extents"] });
    const { backend } = await filtered(createExtentlistFilter(host), ["extentlist=/list"], ram);
    expect(backend.caps.extents).toBe(true);
    const list = new Extents(100, backend.caps.size);
    await backend.extents(70000, 100, false, list);
    expect(list.types.map((type, i) => [Number(list.starts[i]), Number(list.ends[i]), type]))
      .toEqual([
        [100, 4096, EXTENT.HOLE | EXTENT.ZERO],
        [4096, 8192, EXTENT.DATA],
        [8192, 65536, EXTENT.HOLE | EXTENT.ZERO],
        [65536, 1048576, EXTENT.HOLE],
      ]);
    expect(ram.calls).toEqual([]);
  });

  test("the file is required, once, and must be readable", async () => {
    const host = hostWith({});
    expect(await failure(() => filtered(createExtentlistFilter(host)))).toMatchObject({
      message: "extentlist: error: you must supply the extentlist parameter on the command line",
    });
    expect(
      await failure(() => filtered(createExtentlistFilter(host), ["extentlist=a", "extentlist=b"])),
    )
      .toMatchObject({ message: "extentlist: error: extentlist cannot appear twice" });
    expect(await failure(() => filtered(createExtentlistFilter(host), ["extentlist=/missing"])))
      .toMatchObject({
        message: "extentlist: error: open: /missing: No such file or directory",
      });
  });
});
