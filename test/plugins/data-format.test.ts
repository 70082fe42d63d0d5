// The data format of man nbdkit-data-plugin, expression by expression: each expected value was
// checked against nbdkit 1.32.5, quirks included (see the comments naming them).

import { describe, expect, test } from "vitest";
import { ConfigError } from "../../src/api/errors.ts";
import type { Plugin } from "../../src/api/plugin.ts";
import { createDataPlugin, type DataHooks } from "../../src/plugins/data.ts";

/** Serves `expr` (plus extra parameters) and returns the size and the first `max` bytes as hex. */
async function serve(
  expr: string,
  params: Record<string, string> = {},
  hooks: DataHooks = {},
  max = 4096,
): Promise<{ size: number | bigint; hex: string }> {
  const plugin: Plugin = createDataPlugin(hooks);
  await plugin.config?.("data", expr);
  for (const [key, value] of Object.entries(params)) await plugin.config?.(key, value);
  await plugin.configComplete?.();
  await plugin.getReady?.();
  const handle = await plugin.open(false, "");
  const size = await handle.getSize();
  const buf = new Uint8Array(Math.min(Number(size), max));
  await handle.readAt(buf, 0);
  return { size, hex: Buffer.from(buf).toString("hex") };
}

const hex = async (expr: string, params: Record<string, string> = {}) =>
  (await serve(expr, params)).hex;

const failure = (expr: string, params: Record<string, string> = {}) =>
  serve(expr, params).then(() => "no error", (error: Error) => {
    expect(error).toBeInstanceOf(ConfigError);
    return error.message;
  });

describe("data format: bytes and words", () => {
  test.each([
    ["0 1 2 3", "00010203"],
    ["0x55 0xAA 0Xff", "55aaff"],
    ["010 0377", "08ff"], // octal
    ["09", "0009"], // "0" is octal and ends at the 9, which is a byte of its own
    ["0x", "00"], // glibc's scanf takes "0x" as zero
    ["4294967296", "00"], // scanf("%i") into an int wraps
    ["255\t1\n2\r3\f4\v5", "ff0102030405"],
  ])("%j is %s", async (expr, expected) => {
    expect(await hex(expr)).toBe(expected);
  });

  test.each([
    ["le16:0x1234", "3412"],
    ["be16:0x1234", "1234"],
    ["le32:1", "01000000"],
    ["be32:0x1", "00000001"],
    ["le64:0x0102030405060708", "0807060504030201"],
    ["be64:1", "0000000000000001"],
    ["le64:0xffffffffffffffff", "ffffffffffffffff"],
    ["le16:010", "0800"],
    ["le16:1 *2", "01000100"],
    ["le16:1 be16:2 le32:0x01020304 be32:0x01020304", "010000020403020101020304"],
  ])("%j is %s", async (expr, expected) => {
    expect(await hex(expr)).toBe(expected);
  });

  test.each([
    ["256", "data parameter BYTE must be in the range 0..255"],
    ["2147483648", "data parameter BYTE must be in the range 0..255"],
    ["0xg", "parsing error at offset 2"],
    ["le16:65536", 'data: could not parse number: "65536": Numerical result out of range'],
    ["le64:18446744073709551616", "Numerical result out of range"],
    ["le16:-1", "data: negative numbers are not allowed"],
    ["le16:", "data: empty string where we expected a number"],
    ["le16:0x", 'data: could not parse number: "0x": trailing garbage'],
    ["le16:1*2", 'data: could not parse number: "1*2": trailing garbage'], // words end at space
    ["(le16:1)", 'could not parse number: "1)": trailing garbage'],
    ["le8:1", 'expected "le16/32/64:" or "be16/32/64:" at offset 5'],
    ["lx", 'expected "le16/32/64:" or "be16/32/64:" at offset 2'],
  ])("%j fails: %s", async (expr, message) => {
    expect(await failure(expr)).toContain(message);
  });
});

describe("data format: strings", () => {
  test.each([
    ['"hello"', "68656c6c6f"],
    ['"a\\x41\\n\\t\\"\\\\\\q"', "61410a09225c71"],
    ['"\\a\\b\\f\\r\\v"', "07080c0d0b"],
    ['"é"', "c3a9"], // the expression's UTF-8 bytes
    ['""', ""],
    ['"" * 5', ""],
    ['"ab"*3', "616261626162"],
    ['("Hello")*3', "48656c6c6f48656c6c6f48656c6c6f"],
  ])("%j is %s", async (expr, expected) => {
    expect(await hex(expr)).toBe(expected);
  });

  test.each([
    ['"\\x4"', "\\xNN must be followed by exactly two hexadecimal characters"],
    ['"\\x4g"', "\\xNN must be followed by exactly two hexadecimal characters"],
    ['"\\0"', "string numeric and unicode sequences are not yet implemented"],
    ['"\\u1234"', "string numeric and unicode sequences are not yet implemented"],
    ['"unterminated', "data parameter: unterminated string"],
    ['"\\x1', "data parameter: unterminated string"],
  ])("%j fails: %s", async (expr, message) => {
    expect(await failure(expr)).toContain(message);
  });
});

describe("data format: offsets", () => {
  test.each([
    ["0 1 2 3 @0x1fe 0x55 0xaa", 512, "00010203" + "00".repeat(0x1fa) + "55aa"],
    ["0 1 2 3 @^0x200 @-2 le16:0xaa55", 512, "00010203" + "00".repeat(0x1fa) + "55aa"],
    ["1 2 3 @0 0", 3, "000203"],
    ["1 2 3 @-1", 3, "010203"], // moving back does not shrink the disk
    ["(1 2 3 @-1) 9", 4, "01020309"],
    ["@+ 5 1", 6, "000000000001"],
    ["@+5", 5, "0000000000"],
    ["@5 @0", 5, "0000000000"],
    ["@^ 4 1", 1, "01"],
    ["1 @^0x10 2", 17, "01" + "00".repeat(15) + "02"],
    ["1 (@^4 2)", 2, "0102"], // alignment is relative to the group
    ["1 2 3 4 @0 (@3)", 4, "00000004"], // a group replaces its whole extent
  ])("%j is %d bytes %s", async (expr, size, expected) => {
    expect(await serve(expr)).toEqual({ size, hex: expected });
  });

  test("@OFFSET past 2^63-1 saturates, as scanf does", async () => {
    expect((await serve("@99999999999999999999", {}, {}, 0)).size).toBe(2n ** 63n - 1n);
  });

  test.each([
    ["@", "parsing error at offset 1"],
    ["@ 5", "parsing error at offset 1"],
    ["@x", "parsing error at offset 1"],
    ["@+", "parsing error at offset 2"],
    ["@+x", "parsing error at offset 2"],
    ["@+-5", "data parameter after @+ must not be negative"],
    ["@--5", "data parameter after @- must not be negative"],
    ["@^-4", "data parameter after @^ must not be negative"],
    ["@^0", "data parameter @^0 must be a power of 2"],
    ["@^0x3", "data parameter @^3 must be a power of 2"],
    ["@^1M", "parsing error at offset 3"],
    ["@-1", "data parameter @-1 must not be larger than the current offset 0"],
    ["1 2 3 @1 @-2", "data parameter @-2 must not be larger than the current offset 1"],
  ])("%j fails: %s", async (expr, message) => {
    expect(await failure(expr)).toContain(message);
  });
});

describe("data format: groups, repeats and slices", () => {
  test.each([
    ["( 0x55 0xAA )*4", "55aa55aa55aa55aa"],
    ["1* 3", "010101"],
    ["1*+3", "010101"],
    ["1*2*3", "010101010101"],
    ["(1 2)*0 3", "03"],
    ["((1 2)*2 3)*2", "0102010203" + "0102010203"],
    ["()", ""],
    ["(((1)))", "01"],
    ["(1 2 3)[1:2]", "02"],
    ["(1 2 3)[ 1:2]", "02"],
    ["(1 2 3)[1: 2]", "02"],
    ["(1 2 3)[:2]", "0102"],
    ["(1 2 3)[1:]", "0203"],
    ["(1 2 3)[:]", "010203"],
    ["(1 2 3)[0:-1]", "010203"],
    ["(1 2 3)[1:-5]", "0203"], // any negative end means "to the end"
    ["(1 2 3)[5:5]", ""], // an empty slice is never evaluated
    ["(1 2 3)[-1:]", ""], // -1 as unsigned equals the end -1: empty too
    ["5[3:1]", "05"], // nbdkit: a byte sliced [N:1] is the byte
    ["()[5:0]", ""], // nbdkit: nothing sliced [N:0] is nothing
    ['("ab")*3[1:4]', "626162"],
    ["(1 @^8)*2[6:10]", "00000100"],
  ])("%j is %s", async (expr, expected) => {
    expect(await hex(expr)).toBe(expected);
  });

  test("a repeat of 2048 pairs makes the man page's 4096-byte test pattern", async () => {
    const { size, hex: bytes } = await serve(" ( 0x55 0xAA )*2048 ");
    expect(size).toBe(4096);
    expect(bytes).toBe("55aa".repeat(2048));
  });

  test('"Hello" repeated and truncated by size= (man page)', async () => {
    const { size, hex: bytes } = await serve(' ( "Hello" )*2000 ', { size: "8192" }, {}, 8192);
    expect(size).toBe(8192);
    expect(bytes).toBe(Buffer.from("Hello".repeat(2000).slice(0, 8192)).toString("hex"));
  });

  test.each([
    ["* 3", "*N must follow an expression"],
    ["@1*3", "*N cannot be applied to this type of expression"],
    ["1*x", "*N not numeric"],
    ["1*-1", "*N must not be negative"],
    ["[1:2]", "[N:M] must follow an expression"],
    ["@1[1:2]", "[N:M] cannot be applied to this type of expression"],
    ["1[x]", "enclosed pattern (...)[N:M] not numeric"],
    ["(1 2 3)[1 :2]", "enclosed pattern (...)[N:M] not numeric"],
    ["(1 2 3)[1:2 ]", "enclosed pattern (...)[N:M] not numeric"],
    ["1 2 [1:2]", "[N:M] does not describe a valid slice"],
    ["(1 2 3)[4:]", "[N:M] does not describe a valid slice"],
    ["(1 2 3)[-2:]", "[N:M] does not describe a valid slice"],
    ["(1 2 3)[2:1]", "[N:M] does not describe a valid slice"],
    ["(1", "unmatched '(' in data string"],
    ["1)", "unmatched ')' in data string"],
    ["(1))", "unmatched ')' in data string"],
  ])("%j fails: %s", async (expr, message) => {
    expect(await failure(expr)).toContain(message);
  });
});

describe("data format: names, variables and comments", () => {
  test.each([
    ["1 -> \\a \\a \\a", "0101"], // the assignment itself writes nothing
    ["(1 2) -> \\a \\a*3", "010201020102"],
    ["1 -> \\a (2 -> \\a \\a) \\a", "0201"],
    ["1 -> \\a 2 -> \\b (\\a \\b) -> \\c \\c \\c", "01020102"],
    ["1 -> \\a \\a -> \\a \\a", "01"], // \a names the old \a: bindings see their own scope
    ["1 ->\\a \\a", "01"],
    ["1 -> \\a-b_2 \\a-b_2", "01"],
    ["\\undefined*0", ""], // never evaluated
    ["1 # comment\n2", "0102"],
    ["1 #c", "01"],
    ["# only a comment", ""],
  ])("%j is %s", async (expr, expected) => {
    expect(await hex(expr)).toBe(expected);
  });

  test("the man page's boot signature sectors", async () => {
    const { size, hex: bytes } = await serve(
      " ( 0x55 0xAA ) -> \\boot-signature\n  ( @0x1fe \\boot-signature ) -> \\sector\n  \\sector \\sector ",
    );
    const sector = "00".repeat(0x1fe) + "55aa";
    expect({ size, bytes }).toEqual({ size: 1024, bytes: sector + sector });
  });

  test.each([
    ["$a $b", { a: "1", b: "2 3" }, "010203"],
    ["$pattern*4", { pattern: "0x55 0xAA" }, "55aa55aa55aa55aa"],
    ["$a", { a: "" }, ""],
    ["$_x1", { _x1: "7" }, "07"],
    ["$a \\x", { a: "1", x: "unused" }, "no error"],
  ])("%j with %j is %s", async (expr, params, expected) => {
    if (expected === "no error") {
      expect(await failure(expr, params)).toBe("\\x not defined");
      return;
    }
    expect(await hex(expr, params)).toBe(expected);
  });

  test("a variable is a scope of its own: its names and offsets stay inside", async () => {
    expect(await failure("$a \\x", { a: "1 -> \\x" })).toBe("\\x not defined");
    expect(await hex("1 2 $a 3", { a: "@0 9" })).toBe("01020903");
  });

  test.each([
    ["\\a", "\\a not defined"],
    ["(1 -> \\a) \\a", "\\a not defined"],
    ["\\a-b", "\\a-b not defined"],
    ["\\", "parsing error at offset 0"],
    ["\\ ", "parsing error at offset 1"],
    ["1 -> \\", "parsing error at offset 4"],
    ["1 - > \\a", "parsing error at offset 3"],
    ["-> \\a", "-> must follow an expression"],
    ["@5 -> \\a", "-> cannot be applied to this type of expression"],
    ["$zz", "$zz: variable not found"],
    ["$1", "parsing error at offset 1"],
    ["$", "parsing error at offset 0"],
    ["!", "parsing error at offset 0: unexpected '!'"],
  ])("%j fails: %s", async (expr, message) => {
    expect(await failure(expr)).toContain(message);
  });

  test("errors inside a variable count offsets in its own text", async () => {
    expect(await failure("$a", { a: "1 )" })).toBe("unmatched ')' in data string");
    expect(await failure("$a", { a: "( 1" })).toBe("unmatched '(' in data string");
    expect(await failure("1 2 $a", { a: "/root" })).toMatch(/parsing error at offset 0/);
  });

  test("a variable that expands itself fails instead of recursing for ever", async () => {
    expect(await failure("$a", { a: "$a" })).toMatch(/nested more than \d+ deep/);
    expect(await failure("$a", { a: "$b", b: "($a)" })).toMatch(/nested more than \d+ deep/);
  });
});
