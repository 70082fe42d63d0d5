import { describe, expect, test } from "vitest";
import { NbdError } from "../../src/api/errors.ts";
import { fileLine, outcome, scriptText, timestamp } from "../../src/filters/log-output.ts";

const request = { connection: 1, id: 2, act: "Read", fields: "offset=0x0 count=0x200" };

describe("log filter output", () => {
  test("lines are nbdkit's: an action's two halves and a single line", () => {
    const time = "2020-08-06 02:07:23.080907";
    expect(fileLine(time, { ...request, type: "ENTER" })).toBe(
      "2020-08-06 02:07:23.080907 connection=1 Read id=2 offset=0x0 count=0x200 ...\n",
    );
    expect(fileLine(time, { ...request, type: "LEAVE", fields: "return=0" })).toBe(
      "2020-08-06 02:07:23.080907 connection=1 ...Read id=2 return=0\n",
    );
    expect(fileLine(time, { connection: 0, id: 0, act: "Fork", type: "PRINT", fields: "" }))
      .toBe("2020-08-06 02:07:23.080907 Fork\n");
    expect(fileLine(time, { ...request, act: "Flush", fields: "", type: "ENTER" })).toBe(
      "2020-08-06 02:07:23.080907 connection=1 Flush id=2 ...\n",
    );
  });

  test("a script gets the entry as shell variables, then its own text", () => {
    expect(scriptText({ ...request, type: "ENTER" }, "echo $act")).toBe(
      "act=Read\nconnection=1\ntype=ENTER\nid=2\noffset=0x0 count=0x200\necho $act",
    );
    expect(scriptText({ connection: 0, id: 0, act: "Ready", type: "PRINT", fields: "" }, "x"))
      .toBe("act=Ready\ntype=PRINT\n\nx");
  });

  test("errors are named as the client sees them", () => {
    expect(outcome()).toBe("return=0");
    expect(outcome(new NbdError("EROFS"))).toBe("return=-1 error=EPERM");
    expect(outcome(new NbdError("EDQUOT"))).toBe("return=-1 error=ENOSPC");
    expect(outcome(new NbdError("EOPNOTSUPP"))).toBe("return=-1 error=ENOTSUP");
    expect(outcome(new NbdError("ENOENT"))).toBe("return=-1 error=EINVAL");
    expect(outcome(new Error("bug"))).toBe("return=-1 error=EIO");
  });

  test("timestamps are UTC with microseconds and never go back", () => {
    const stamps = Array.from({ length: 50 }, () => timestamp());
    for (const stamp of stamps) expect(stamp).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/);
    expect([...stamps].sort()).toEqual(stamps);
    const now = new Date().toISOString();
    expect(stamps[0].slice(0, 10)).toBe(now.slice(0, 10));
  });
});
