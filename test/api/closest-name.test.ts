import { describe, expect, test } from "vitest";
import { closestName } from "../../src/api/closest-name.ts";

const HANDLE = ["getSize", "readAt", "writeAt", "zero", "trim", "flush", "canWrite", "canFlush"];

describe("closestName finds the name a typo meant", () => {
  test("case and underscores are ignored", () => {
    expect(closestName("writeat", HANDLE)).toBe("writeAt");
    expect(closestName("get_size", HANDLE)).toBe("getSize");
    expect(closestName("can_flush", HANDLE)).toBe("canFlush");
    expect(closestName("READAT", HANDLE)).toBe("readAt");
  });

  test("a letter dropped, added, changed or two swapped", () => {
    expect(closestName("getSze", HANDLE)).toBe("getSize");
    expect(closestName("readsAt", HANDLE)).toBe("readAt");
    expect(closestName("wirteAt", HANDLE)).toBe("writeAt");
    expect(closestName("ENOSPACE", ["ENOSPC", "ENOMEM", "EIO"])).toBe("ENOSPC");
  });

  test("aliases name another spelling of a known name", () => {
    expect(closestName("pread", HANDLE, { pread: "readAt" })).toBe("readAt");
    expect(closestName("PRead", HANDLE, { pread: "readAt" })).toBe("readAt");
  });

  test("names close to nothing are left alone, and short ones need an exact fold", () => {
    for (const name of ["disk", "size", "helper", "pages", "data", "file", "zer", "fsh"]) {
      expect(closestName(name, HANDLE), name).toBeUndefined();
    }
  });
});
