// How the file plugin trims and zeroes (src/plugins/file/fallocate.ts): which fallocate call it
// tries in which order, what it gives up on for the connection, and what reaches the client.

import { describe, expect, test } from "vitest";
import { NbdError } from "../../src/api/errors.ts";
import type { DiskFile } from "../../src/io.ts";
import { createFallocate } from "../../src/plugins/file/fallocate.ts";

type Call = "punchHole" | "zeroRange" | "allocate";

/** A file whose fallocate calls are logged and fail with the errno name given for each. */
function fileFailing(failures: Partial<Record<Call, string>>, calls: Call[] = []) {
  const call = (name: Call) => () => {
    calls.push(name);
    const code = failures[name];
    if (code) throw Object.assign(new Error(`fallocate: ${code}`), { code });
  };
  const file = {
    punchHole: call("punchHole"),
    zeroRange: call("zeroRange"),
    allocate: call("allocate"),
  } as unknown as DiskFile;
  return { file, calls };
}

describe("file plugin trim", () => {
  test("punches a hole", async () => {
    const { file, calls } = fileFailing({});
    await createFallocate(file, "d").trim(4096, 0);
    expect(calls).toEqual(["punchHole"]);
  });

  test("EIO and EPERM fail the trim; other failures are ignored, as trim is advice", async () => {
    for (const code of ["EIO", "EPERM"]) {
      const { file } = fileFailing({ punchHole: code });
      await expect(createFallocate(file, "d").trim(1, 0)).rejects.toMatchObject({ errno: code });
    }
    const { file } = fileFailing({ punchHole: "EINVAL" });
    await createFallocate(file, "d").trim(1, 0);
  });

  test("a file that cannot punch is not asked again on this connection", async () => {
    const { file, calls } = fileFailing({ punchHole: "EOPNOTSUPP" });
    const fallocate = createFallocate(file, "d");
    await fallocate.trim(1, 0);
    await fallocate.trim(1, 0);
    expect(calls).toEqual(["punchHole"]);
  });

  test("a file without fallocate is left alone", async () => {
    await createFallocate({} as DiskFile, "d").trim(1, 0);
  });
});

describe("file plugin zero", () => {
  test("punches when the client allows a hole, else zeroes the range in place", async () => {
    const { file, calls } = fileFailing({});
    const fallocate = createFallocate(file, "d");
    await fallocate.zero(1, 0, true);
    await fallocate.zero(1, 0, false);
    expect(calls).toEqual(["punchHole", "zeroRange"]);
  });

  test("without ZERO_RANGE (tmpfs), punches then allocates", async () => {
    const { file, calls } = fileFailing({ zeroRange: "EOPNOTSUPP" });
    const fallocate = createFallocate(file, "d");
    await fallocate.zero(1, 0, false);
    await fallocate.zero(1, 0, false);
    expect(calls).toEqual(["zeroRange", "punchHole", "allocate", "punchHole", "allocate"]);
  });

  test("when no way is left, asks the server to write zeroes (EOPNOTSUPP)", async () => {
    const { file, calls } = fileFailing({
      punchHole: "EOPNOTSUPP",
      zeroRange: "EOPNOTSUPP",
    });
    const fallocate = createFallocate(file, "d");
    await expect(fallocate.zero(1, 0, true)).rejects.toMatchObject({ errno: "EOPNOTSUPP" });
    await expect(fallocate.zero(1, 0, true)).rejects.toMatchObject({ errno: "EOPNOTSUPP" });
    expect(calls).toEqual(["punchHole", "zeroRange"]);
  });

  test("a hole that cannot be allocated again is filled by writing zeroes", async () => {
    const { file, calls } = fileFailing({ zeroRange: "EOPNOTSUPP", allocate: "EOPNOTSUPP" });
    const fallocate = createFallocate(file, "d");
    await expect(fallocate.zero(1, 0, false)).rejects.toMatchObject({ errno: "EOPNOTSUPP" });
    await expect(fallocate.zero(1, 0, false)).rejects.toMatchObject({ errno: "EOPNOTSUPP" });
    expect(calls).toEqual(["zeroRange", "punchHole", "allocate"]);
  });

  test("other failures reach the client with their errno, unnamed ones as EINVAL", async () => {
    const cases: [string, string][] = [["ENOSPC", "ENOSPC"], ["EIO", "EIO"], ["ETXTBSY", "EINVAL"]];
    for (const [code, errno] of cases) {
      const { file } = fileFailing({ zeroRange: code });
      const zeroing = createFallocate(file, "/disk.img").zero(1, 0, false);
      await expect(zeroing).rejects.toBeInstanceOf(NbdError);
      await expect(createFallocate(file, "/disk.img").zero(1, 0, false)).rejects.toMatchObject({
        errno,
        message: `zero: /disk.img: fallocate: ${code}`,
      });
    }
  });
});
