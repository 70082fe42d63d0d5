// The export lists a script prints (src/plugins/sh/exports.ts), read line by line as nbdkit's
// parse_exports reads them, incomplete last lines included.

import { describe, expect, test } from "vitest";
import { parseDefaultExport, parseExports } from "../../../src/plugins/sh/exports.ts";

describe("parseExports", () => {
  test.each([
    ["", []],
    ["a\nb\n", [{ name: "a" }, { name: "b" }]],
    ["NAMES\na\nb", [{ name: "a" }]],
    ["INTERLEAVED\na\nA\nb\nB\n", [{ name: "a", description: "A" }, {
      name: "b",
      description: "B",
    }]],
    ["INTERLEAVED\na\nA\nb\n", [{ name: "a", description: "A" }, { name: "b", description: "" }]],
    ["INTERLEAVED\na\nA", [{ name: "a", description: "" }]],
    ["INTERLEAVED\na\nA\nb", [{ name: "a", description: "A" }]],
    [
      "NAMES+DESCRIPTIONS\na\nb\nA\nB\n",
      [{ name: "a", description: "A" }, { name: "b", description: "B" }],
    ],
    [
      "NAMES+DESCRIPTIONS\na\nb\nA\n",
      [{ name: "a", description: "A" }, { name: "b", description: "" }],
    ],
    ["NAMES+DESCRIPTIONS\na\nA", [{ name: "a", description: "" }]],
    ["NAMES+DESCRIPTIONS\n\n\n", [{ name: "", description: "" }]],
    ["NAMES+DESCRIPTIONS\n", []],
  ])("%j", (text, entries) => {
    expect(parseExports(text)).toEqual(entries);
  });
});

describe("parseDefaultExport", () => {
  test.each([
    ["", ""],
    ["hello\n", "hello"],
    ["hello", "hello"],
    ["NAMES\nfirst\nsecond\n", "first"],
    ["INTERLEAVED\nname\ndescription\n", "name"],
    ["NAMES+DESCRIPTIONS\n", ""],
  ])("%j is %j", (text, name) => {
    expect(parseDefaultExport(text)).toBe(name);
  });
});
