// Parameters read as nbdkit's C reads them (src/plugins/lib/c-numbers.ts): nbdkit_parse_uint64_t
// with its messages, and sscanf("%lf") taking the number at the start of the text.

import { describe, expect, test } from "vitest";
import { ConfigError } from "../../src/api/errors.ts";
import { parseUint64, scanDouble } from "../../src/plugins/lib/c-numbers.ts";

describe("parseUint64", () => {
  test.each([
    ["0", 0n],
    ["16", 16n],
    ["0x10", 16n],
    ["020", 16n],
    ["+7", 7n],
    [" \t9", 9n],
    ["18446744073709551615", 18446744073709551615n],
  ])("reads %j as %s, base 0 like strtoull", (text, value) => {
    expect(parseUint64("runlength", text)).toBe(value);
  });

  test.each([
    ["-1", "runlength: negative numbers are not allowed"],
    ["", "runlength: empty string where we expected a number"],
    ["abc", "runlength: empty string where we expected a number"],
    ["1M", 'runlength: could not parse number: "1M": trailing garbage'],
    ["0x", 'runlength: could not parse number: "0x": trailing garbage'],
    ["08", 'runlength: could not parse number: "08": trailing garbage'],
    [
      "18446744073709551616",
      'runlength: could not parse number: "18446744073709551616": Numerical result out of range',
    ],
  ])("refuses %j with nbdkit's message", (text, message) => {
    expect(() => parseUint64("runlength", text)).toThrow(new ConfigError(message));
  });
});

describe("scanDouble", () => {
  test.each([
    ["10", 10],
    ["2.5", 2.5],
    [" 7", 7],
    ["5x", 5],
    ["1e1", 10],
    ["1e", 1],
    [".5", 0.5],
    ["5.", 5],
    ["-0", -0],
    ["0x10", 16],
    ["0x1p4", 16],
    ["0x.8", 0.5],
    ["0x", 0],
    ["inf", Infinity],
    ["-Infinity", -Infinity],
  ])("finds %j as %s, as strtod does", (text, value) => {
    expect(scanDouble(text)).toBe(value);
  });

  test("reads nan and nan(…) as NaN", () => {
    expect(scanDouble("nan")).toBeNaN();
    expect(scanDouble("NaN(123)")).toBeNaN();
  });

  test.each(["", "abc", ".", "+", "x5"])("finds no number in %j", (text) => {
    expect(scanDouble(text)).toBeUndefined();
  });
});
