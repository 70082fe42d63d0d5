/**
 * -D data.AST=1's lines for each kind of node, as nbdkit 1.32.5 printed them for the same
 * expressions (`nbdkit -v -D data.AST=1 data '(</etc/hostname)[1:-1] <(echo hi)'` and others);
 * the interop test compares whole trees with nbdkit's.
 */

import { describe, expect, test } from "vitest";
import type { Node } from "../../src/plugins/data/ast.ts";
import { astDebugLines, astLines } from "../../src/plugins/data/ast-lines.ts";

describe("astLines prints the tree as nbdkit's debug_expr", () => {
  test("a slice of a file and a script", () => {
    const tree: Node = {
      kind: "list",
      items: [
        { kind: "slice", expr: { kind: "file", path: "/etc/hostname" }, start: 1n, end: -1n },
        { kind: "script", script: "echo hi" },
      ],
    };
    expect(astDebugLines(tree)).toEqual([
      "BEGIN AST (-D data.AST=1)",
      "(",
      "    (",
      "        </etc/hostname",
      "    )[1:-1]",
      "    <(echo hi)",
      ")",
      "END AST",
    ]);
  });

  test("an assignment, a repeat of a name, a relative offset", () => {
    const tree: Node = {
      kind: "list",
      items: [
        { kind: "list", items: [{ kind: "assign", name: "b", expr: stringOf("a") }] },
        { kind: "repeat", expr: { kind: "name", name: "b" }, count: 3n },
        { kind: "offset", mode: "relative", value: 1n },
      ],
    };
    expect(astLines(tree)).toEqual([
      "(",
      "    (",
      "        (",
      '            "a"',
      "        ) -> \\b",
      "    )",
      "    (",
      "        \\b",
      "    ) *3",
      "    @1",
      ")",
    ]);
  });

  test("bytes, fills, nulls, offsets; strings quote all but printable ASCII", () => {
    expect(astLines({ kind: "byte", value: 255 })).toEqual(["255"]);
    expect(astLines({ kind: "fill", value: 0, count: 512n })).toEqual(["fill(0*512)"]);
    expect(astLines({ kind: "null" })).toEqual(["null"]);
    expect(astLines({ kind: "offset", mode: "absolute", value: 4096n })).toEqual(["@4096"]);
    expect(astLines({ kind: "offset", mode: "relative", value: -2n })).toEqual(["@-2"]);
    expect(astLines({ kind: "offset", mode: "align", value: 16n })).toEqual(["@^16"]);
    expect(astLines({ kind: "string", bytes: Uint8Array.of(0x41, 0x22, 0x5c, 0x0a, 0xff) }))
      .toEqual(['"A"\\\\x0a\\xff"']);
  });

  test("a slice's start is C's uint64_t: -1 shows as 2^64-1", () => {
    const slice: Node = { kind: "slice", expr: { kind: "null" }, start: -1n, end: 2n };
    expect(astLines(slice).at(-1)).toBe(")[18446744073709551615:2]");
  });

  test("indentation stops growing past ten levels, as nbdkit's", () => {
    let tree: Node = { kind: "byte", value: 1 };
    for (let i = 0; i < 12; i++) tree = { kind: "list", items: [tree] };
    const lines = astLines(tree);
    expect(lines[10]).toBe(" ".repeat(40) + "(");
    expect(lines[11]).toBe(" ".repeat(40) + "(");
    expect(lines[12]).toBe(" ".repeat(40) + "1");
  });
});

function stringOf(text: string): Node {
  return { kind: "string", bytes: new TextEncoder().encode(text) };
}
