// The sparse-file calls over libc (src/runtime/libc-file.ts) with a stand-in libc: the modes
// and whence values passed, 64-bit offsets, and how errno becomes an error code.

import { describe, expect, test } from "vitest";
import { isPipeByLibc, type Libc, sparseCalls } from "../../src/runtime/libc-file.ts";

/** A libc that logs calls and answers from `answers` in turn (a number, or -1 and an errno). */
function fakeLibc(answers: (number | [-1, number])[]) {
  const calls: string[] = [];
  let errno = 0;
  const next = () => {
    const answer = answers.shift() ?? 0;
    if (typeof answer === "number") return answer;
    errno = answer[1];
    return -1;
  };
  const libc: Libc = {
    lseek(fd, offset, whence) {
      calls.push(`lseek ${fd} ${offset} ${whence}`);
      return BigInt(next());
    },
    fallocate(fd, mode, offset, length) {
      calls.push(`fallocate ${fd} ${mode} ${offset} ${length}`);
      return next();
    },
    errno: () => errno,
  };
  return { libc, calls };
}

describe("libc sparse calls", () => {
  test("each fallocate mode as Linux numbers it, offsets as 64-bit", async () => {
    const { libc, calls } = fakeLibc([0, 0, 0]);
    const file = sparseCalls(libc, 7);
    await file.punchHole(2 ** 52, 4096);
    await file.zeroRange(0, 1);
    await file.allocate(5, 6);
    expect(calls).toEqual([
      "fallocate 7 3 4503599627370496 4096",
      "fallocate 7 16 0 1",
      "fallocate 7 0 5 6",
    ]);
  });

  test("SEEK_DATA and SEEK_HOLE; ENXIO means only a hole follows", () => {
    const { libc, calls } = fakeLibc([8192, [-1, 6], 12288]);
    const file = sparseCalls(libc, 3);
    expect(file.nextData(0)).toBe(8192);
    expect(file.nextData(16384)).toBeUndefined();
    expect(file.nextHole(8192)).toBe(12288);
    expect(calls).toEqual(["lseek 3 0 3", "lseek 3 16384 3", "lseek 3 8192 4"]);
  });

  test("errno becomes the error's code, ENODEV reads as EOPNOTSUPP", () => {
    const cases: [number, string, RegExp][] = [
      [95, "EOPNOTSUPP", /fallocate: Operation not supported/],
      [19, "EOPNOTSUPP", /fallocate: Operation not supported/],
      [28, "ENOSPC", /No space left on device/],
      [5, "EIO", /Input\/output error/],
      [200, "errno 200", /Unknown error 200/],
    ];
    for (const [errno, code, message] of cases) {
      const { libc } = fakeLibc([[-1, errno]]);
      expect(() => sparseCalls(libc, 3).zeroRange(0, 1)).toThrow(message);
      const again = fakeLibc([[-1, errno]]);
      expect(() => sparseCalls(again.libc, 3).zeroRange(0, 1)).toThrow(
        expect.objectContaining({ code }),
      );
    }
  });

  test("an interrupted fallocate is tried again", async () => {
    const { libc, calls } = fakeLibc([[-1, 4], 0]);
    await sparseCalls(libc, 3).punchHole(0, 1);
    expect(calls).toHaveLength(2);
  });

  test("a seek that fails otherwise throws", () => {
    const { libc } = fakeLibc([[-1, 22], [-1, 6]]);
    const file = sparseCalls(libc, 3);
    expect(() => file.nextData(0)).toThrow(expect.objectContaining({ code: "EINVAL" }));
    expect(() => file.nextHole(0)).toThrow(expect.objectContaining({ code: "ENXIO" }));
  });
});

describe("a pipe told by lseek", () => {
  test("ESPIPE is a pipe or socket; a seekable file or a closed descriptor is not", () => {
    const pipe = fakeLibc([[-1, 29]]);
    expect(isPipeByLibc(pipe.libc, 3)).toBe(true);
    expect(pipe.calls).toEqual(["lseek 3 0 1"]);
    expect(isPipeByLibc(fakeLibc([0]).libc, 3)).toBe(false);
    expect(isPipeByLibc(fakeLibc([[-1, 9]]).libc, 3)).toBe(false);
  });
});
