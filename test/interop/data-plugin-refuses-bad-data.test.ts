/**
 * The data plugin refuses a bad expression or bad parameters at start-up: the server exits
 * with status 1 before running anything, and its message says what is wrong in nbdkit's words.
 */

import { describe, expect, test } from "vitest";
import { captive } from "../helpers/captive.ts";
import { servers } from "../helpers/servers.ts";

const REFUSALS: readonly (readonly [readonly string[], string])[] = [
  [["256"], "data parameter BYTE must be in the range 0..255"],
  [["0xg"], "data parameter: parsing error at offset 2"],
  [["1 !"], "data parameter: parsing error at offset 2"],
  [["@ 5"], "data parameter: parsing error at offset 1"],
  [["1 - > \\a"], "data parameter: parsing error at offset 3"],
  [["le16:1*2"], 'data: could not parse number: "1*2": trailing garbage'],
  [["le16:65536"], 'data: could not parse number: "65536": Numerical result out of range'],
  [["le16:-1"], "data: negative numbers are not allowed"],
  [["le8:1"], 'data parameter: expected "le16/32/64:" or "be16/32/64:" at offset 5'],
  [['"\\0"'], "data: string numeric and unicode sequences are not yet implemented"],
  [['"\\x4g"'], "data: \\xNN must be followed by exactly two hexadecimal characters"],
  [['"abc'], "data parameter: unterminated string"],
  [["@+-5"], "data parameter after @+ must not be negative"],
  [["@^3"], "data parameter @^3 must be a power of 2"],
  [["@-1"], "data parameter @-1 must not be larger than the current offset 0"],
  [["* 3"], "*N must follow an expression"],
  [["@1*3"], "*N cannot be applied to this type of expression"],
  [["1*x"], "*N not numeric"],
  [["[1:2]"], "[N:M] must follow an expression"],
  [["1[x]"], "enclosed pattern (...)[N:M] not numeric"],
  [["(1 2 3)[4:]"], "[N:M] does not describe a valid slice"],
  [["(1"], "unmatched '(' in data string"],
  [["1)"], "unmatched ')' in data string"],
  [["\\a"], "\\a not defined"],
  [["(1 -> \\a) \\a"], "\\a not defined"],
  [["@5 -> \\a"], "-> cannot be applied to this type of expression"],
  [["$nosuchvariable"], "$nosuchvariable: variable not found"],
  [["$a", "a=1 )"], "unmatched ')' in data string"],
  [["base64=MTI"], "base64: Base64 decoding error"],
  [["base64=TR=="], "base64: Base64 decoding error"],
  [["raw=a", "data=1"], "raw|base64|data parameter must be specified exactly once"],
  [["raw=a", "x=3"], "extra parameters passed and not using data='...'"],
  [["size=10"], "raw|base64|data parameter was not specified"],
];

describe.each(servers)("data plugin refuses bad data ($name)", (server) => {
  test.each(REFUSALS)("data %j: %s", async (args, message) => {
    const result = await captive(server, ["data", ...args], "echo ran");
    expect(result.stdout).toBe("");
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(message);
  });
});
