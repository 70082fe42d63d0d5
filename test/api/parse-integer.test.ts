import { describe, expect, test } from "vitest";
import { parseInt32, parseUnsigned } from "../../src/api/parse-integer.ts";
import { ConfigError } from "../../src/api/errors.ts";

describe("parseUnsigned reads numbers as nbdkit_parse_unsigned", () => {
  test("decimal, hex and octal, with C's base-0 prefixes", () => {
    expect(parseUnsigned("threads", "16")).toBe(16);
    expect(parseUnsigned("threads", "0x10")).toBe(16);
    expect(parseUnsigned("threads", "020")).toBe(16);
    expect(parseUnsigned("threads", "0")).toBe(0);
    expect(parseUnsigned("threads", " +7")).toBe(7);
    expect(parseUnsigned("threads", "4294967295")).toBe(0xffff_ffff);
  });

  test("each mistake has nbdkit's message, naming the option", () => {
    const cases: [string, string][] = [
      ["-3", "threads: negative numbers are not allowed"],
      [" -3", "threads: negative numbers are not allowed"],
      ["abc", "threads: empty string where we expected a number"],
      ["", "threads: empty string where we expected a number"],
      [
        "4294967296",
        'threads: could not parse number: "4294967296": Numerical result out of range',
      ],
      ["7x", 'threads: could not parse number: "7x": trailing garbage'],
      ["08", 'threads: could not parse number: "08": trailing garbage'],
      ["0x", 'threads: could not parse number: "0x": trailing garbage'],
    ];
    for (const [text, message] of cases) {
      expect(() => parseUnsigned("threads", text), text).toThrow(ConfigError);
      expect(() => parseUnsigned("threads", text), text).toThrow(message);
    }
  });
});

describe("parseInt32 reads numbers as nbdkit_parse_int", () => {
  test("negative values and the int range", () => {
    expect(parseInt32("flag", "-1")).toBe(-1);
    expect(parseInt32("flag", "2147483647")).toBe(2147483647);
    expect(parseInt32("flag", "-2147483648")).toBe(-2147483648);
    expect(() => parseInt32("flag", "2147483648")).toThrow("Numerical result out of range");
    expect(() => parseInt32("flag", "x")).toThrow("flag: empty string where we expected a number");
  });
});
