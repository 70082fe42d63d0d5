import { describe, expect, test } from "vitest";
import { ConfigError } from "../../src/api/errors.ts";
import { resolveParams, splitParam } from "../../src/cli/params.ts";

describe("splitParam", () => {
  test("key=value splits at the first '='", () => {
    expect(splitParam("size=1G")).toEqual({ key: "size", value: "1G" });
    expect(splitParam("a=b=c")).toEqual({ key: "a", value: "b=c" });
    expect(splitParam("size=")).toEqual({ key: "size", value: "" });
  });

  test("a word without '=' is a bare value", () => {
    expect(splitParam("1G")).toEqual({ value: "1G" });
    expect(splitParam("")).toEqual({ value: "" });
  });

  test("a word whose text before '=' is not a config key is a bare value", () => {
    expect(splitParam("1 2 = 3")).toEqual({ value: "1 2 = 3" });
    expect(splitParam("=5")).toEqual({ value: "=5" });
    expect(splitParam("_a=5")).toEqual({ value: "_a=5" });
    expect(splitParam("./x=y")).toEqual({ value: "./x=y" });
  });
});

describe("resolveParams gives bare values their key as nbdkit does", () => {
  test("with a magic config key every bare value gets it, in order", () => {
    const params = ["1 2 = 3", "size=10", "3"].map(splitParam);
    expect(resolveParams(params, "data", "data")).toEqual([
      { key: "data", value: "1 2 = 3" },
      { key: "size", value: "10" },
      { key: "data", value: "3" },
    ]);
  });

  test("without one, a bare first value is the script", () => {
    expect(resolveParams([splitParam("foo.pl"), splitParam("a=1")], undefined, "perl")).toEqual([
      { key: "script", value: "foo.pl" },
      { key: "a", value: "1" },
    ]);
  });

  test("without one, a bare value after the first parameter is an error naming it", () => {
    const params = ["file=/dev/null", "foo"].map(splitParam);
    expect(() => resolveParams(params, undefined, "example2")).toThrow(ConfigError);
    expect(() => resolveParams(params, undefined, "example2")).toThrow(
      "expecting key=value on the command line but got: foo (plugin 'example2' has no magic config key)",
    );
  });

  test("no parameters give no parameters", () => {
    expect(resolveParams([], "size", "memory")).toEqual([]);
  });
});
