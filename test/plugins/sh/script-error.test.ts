// How a failing script's stderr becomes an errno and a message (src/plugins/sh/script-error.ts),
// against the cases of nbdkit's tests/test-sh-errors.sh and handle_script_error's corners.

import { describe, expect, test } from "vitest";
import { readScriptError } from "../../../src/plugins/sh/script-error.ts";

describe("readScriptError", () => {
  test.each([
    ["ENOMEM", "ENOMEM", ""],
    ["eperm\n", "EPERM", ""],
    ["ENOSPC custom message\n", "ENOSPC", "custom message"],
    ["EINVAL \t  spaced\n", "EINVAL", "spaced"],
    ["EPIPE\n", "EIO", "EPIPE"],
    ["EINVALID\n", "EIO", "EINVALID"],
    ["EoPnOtSuPp no\n", "EOPNOTSUPP", "no"],
    ["ENOTSUP\n", "ENOTSUP", ""],
    ["EROFS read-only\n", "EROFS", "read-only"],
    ["EDQUOT\n", "EDQUOT", ""],
    ["EFBIG big\n", "EFBIG", "big"],
    ["EOVERFLOW\n", "EOVERFLOW", ""],
    ["ESHUTDOWN\n", "ESHUTDOWN", ""],
    ["EIO eh\n", "EIO", "eh"],
    ["plain words\n\n\n", "EIO", "plain words"],
  ])("%j is %s with message %j", (stderr, errno, message) => {
    expect(readScriptError(stderr)).toMatchObject({ errno, message });
  });

  test("nothing on stderr: EIO and no message", () => {
    expect(readScriptError("")).toEqual({ errno: "EIO", message: undefined });
  });

  test("more than one line: the first is the message, the whole is kept for the log", () => {
    expect(readScriptError("ESHUTDOWN\nline one\nline two\n")).toEqual({
      errno: "ESHUTDOWN",
      message: "line one",
      whole: "ESHUTDOWN\nline one\nline two",
    });
    expect(readScriptError("EPERM first\nsecond\n")).toEqual({
      errno: "EPERM",
      message: "first",
      whole: "EPERM first\nsecond",
    });
  });

  test("only ASCII letters fold: a name spelt with other letters is no name", () => {
    expect(readScriptError("ＥPERM x").errno).toBe("EIO");
  });
});
