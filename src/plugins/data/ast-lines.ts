/**
 * The optimized expression tree as `-D data.AST=1` prints it, line for line as nbdkit's
 * debug_expr (plugins/data/format.c) does, so scripts that read how an expression was optimized
 * read the same from both: four spaces per level (at most forty), a group as "(" … ")", a repeat
 * as "(" … ") *N", strings with anything but printable ASCII as \xNN.
 */

import type { Node } from "./ast.ts";

/** Indentation of `level`: nbdkit stops indenting past ten levels. */
function indent(level: number): string {
  return " ".repeat(4 * Math.min(level, 10));
}

/** A string's bytes as nbdkit quotes them: printable ASCII as itself, the rest as \xNN. */
function quoted(bytes: Uint8Array): string {
  let text = "";
  for (const byte of bytes) {
    text += byte >= 0x20 && byte < 0x7f
      ? String.fromCharCode(byte)
      : `\\x${byte.toString(16).padStart(2, "0")}`;
  }
  return `"${text}"`;
}

/** One line per node, children one level deeper, from `level` on. */
export function astLines(node: Node, level = 0): string[] {
  const at = indent(level);
  const group = (inner: Node, closing: string) => [
    `${at}(`,
    ...astLines(inner, level + 1),
    `${at})${closing}`,
  ];
  switch (node.kind) {
    case "null":
      return [`${at}null`];
    case "list":
      return [`${at}(`, ...node.items.flatMap((item) => astLines(item, level + 1)), `${at})`];
    case "byte":
      return [`${at}${node.value}`];
    case "offset":
      return [`${at}@${node.mode === "align" ? "^" : ""}${node.value}`];
    case "file":
      return [`${at}<${node.path}`];
    case "script":
      return [`${at}<(${node.script})`];
    case "string":
      return [`${at}${quoted(node.bytes)}`];
    case "fill":
      return [`${at}fill(${node.value}*${node.count})`];
    case "name":
      return [`${at}\\${node.name}`];
    case "assign":
      return group(node.expr, ` -> \\${node.name}`);
    case "repeat":
      return group(node.expr, ` *${node.count}`);
    case "slice":
      return group(node.expr, `[${BigInt.asUintN(64, node.start)}:${node.end}]`);
  }
}

/** The lines -D data.AST=1 prints around the tree, as nbdkit frames them. */
export function astDebugLines(node: Node): string[] {
  return ["BEGIN AST (-D data.AST=1)", ...astLines(node), "END AST"];
}
