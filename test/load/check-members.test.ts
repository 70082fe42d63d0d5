import { describe, expect, test } from "vitest";
import { memberWarnings } from "../../src/load/check-members.ts";

describe("memberWarnings names the member a typo meant", () => {
  test("a plugin's misspelt members, and a handle method put on the plugin", () => {
    const plugin = {
      name: "tiny",
      magicConfigkey: "size",
      Open() {},
      config_complete() {},
      readAt() {},
      open() {},
    };
    expect(memberWarnings("plugin", plugin)).toEqual([
      "magicConfigkey: not a plugin member; did you mean magicConfigKey?",
      "Open: not a plugin method; did you mean open?",
      "config_complete: not a plugin method; did you mean configComplete?",
      "readAt: a handle method, not a plugin one; return it from open()",
    ]);
  });

  test("a handle's misspelt methods, nbdkit's names among them", () => {
    const handle = {
      getsize: () => 1,
      readAt() {},
      writeat() {},
      can_flush: () => true,
      pwrite() {},
      pread() {},
    };
    expect(memberWarnings("handle", handle)).toEqual([
      "getsize: not a handle method; did you mean getSize?",
      "writeat: not a handle method; did you mean writeAt?",
      "can_flush: not a handle method; did you mean canFlush?",
      "pwrite: not a handle method; did you mean writeAt?",
      "pread: not a handle method; did you mean readAt?",
    ]);
  });

  test("a callback that is not a function, and a text that is not a string", () => {
    expect(memberWarnings("handle", { canWrite: true, readAt() {}, getSize: () => 0 })).toEqual([
      "canWrite: is a boolean, not a method",
    ]);
    expect(memberWarnings("plugin", { name: "x", threadModel: 3, description: () => "d" }))
      .toEqual([
        "threadModel: is a number, not a method",
        "description: is a function, not a string",
      ]);
  });

  test("the author's own members, close to no name, are left alone", () => {
    const handle = {
      getSize: () => 0,
      readAt() {},
      disk: new Uint8Array(1),
      readonly: false,
      exportName: "",
      pages: [],
      grow() {},
      close: undefined,
    };
    expect(memberWarnings("handle", handle)).toEqual([]);
    expect(memberWarnings("plugin", { name: "x", open() {}, size: 0, files: [], parse() {} }))
      .toEqual([]);
  });

  test("a class instance is checked through its prototype's methods", () => {
    class Disk {
      getSize() {
        return 0;
      }
      readat() {}
      private helper() {}
    }
    expect(memberWarnings("handle", new Disk())).toEqual([
      "readat: not a handle method; did you mean readAt?",
    ]);
  });
});
