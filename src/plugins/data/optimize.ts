/**
 * Simplifies an expression tree the way nbdkit's optimize_ast does, because some of its rewrites
 * change what an expression means at the edges and we match nbdkit there: `x*0` and `x[N:N]` are
 * never evaluated (so `<missing*0` is no error), `BYTE[N:1]` is the byte for any N, and
 * `(<FILE)[N:M]` is a file slice (read in part, see evaluate.ts). The other rewrites (joining
 * neighbouring bytes and strings, repeats of one byte as fills) keep the tree small.
 */

import { type Node, type NodeOf, NULL_NODE } from "./ast.ts";

export function optimize(node: Node): Node {
  switch (node.kind) {
    case "list":
      return optimizeList(node.items);
    case "assign":
      return { kind: "assign", name: node.name, expr: optimize(node.expr) };
    case "repeat":
      return optimizeRepeat(node);
    case "slice":
      return optimizeSlice(node);
    case "string":
      if (node.bytes.length === 0) return NULL_NODE;
      if (node.bytes.length > 1 && node.bytes.every((byte) => byte === node.bytes[0])) {
        return { kind: "fill", value: node.bytes[0], count: BigInt(node.bytes.length) };
      }
      return node;
    case "fill":
      return node.count === 0n ? NULL_NODE : node;
    default:
      return node;
  }
}

/**
 * Names, assignments and offsets belong to their scope: a group holding one stays a group,
 * anything else may be spliced into the enclosing list.
 */
function isScoped(node: Node): boolean {
  return node.kind === "assign" || node.kind === "name" || node.kind === "offset";
}

function optimizeList(items: readonly Node[]): Node {
  const flat: Node[] = [];
  for (const item of items) {
    const node = optimize(item);
    if (node.kind === "null") continue;
    if (node.kind === "list" && !node.items.some(isScoped)) flat.push(...node.items);
    else flat.push(node);
  }
  const joined = joinNeighbours(flat);
  if (joined.length === 0) return NULL_NODE;
  if (joined.length === 1 && !isScoped(joined[0])) return joined[0];
  return { kind: "list", items: joined };
}

function optimizeRepeat(node: NodeOf<"repeat">): Node {
  const count = node.count;
  if (count === 0n) return NULL_NODE;
  const expr = optimize(node.expr);
  if (count === 1n || expr.kind === "null") return expr;
  switch (expr.kind) {
    case "repeat":
      return { kind: "repeat", expr: expr.expr, count: count * expr.count };
    case "fill":
      return { kind: "fill", value: expr.value, count: count * expr.count };
    case "byte":
      return { kind: "fill", value: expr.value, count };
    case "string":
      if (expr.bytes.length === 1) return { kind: "fill", value: expr.bytes[0], count };
      if (count <= 4n && expr.bytes.length <= 512) {
        const bytes = new Uint8Array(expr.bytes.length * Number(count));
        for (let at = 0; at < bytes.length; at += expr.bytes.length) bytes.set(expr.bytes, at);
        return { kind: "string", bytes };
      }
  }
  return { kind: "repeat", expr, count };
}

function optimizeSlice(node: NodeOf<"slice">): Node {
  const { start, end } = node;
  // C compares the uint64_t start with the int64_t end as unsigned: [-1:] is empty too.
  if (start === BigInt.asUintN(64, end)) return NULL_NODE;
  const expr = optimize(node.expr);
  const whole = start === 0n && end === -1n;
  switch (expr.kind) {
    case "null":
      if (end === 0n || whole) return NULL_NODE;
      break;
    case "byte":
      if (end === 1n || whole) return expr;
      break;
    case "string":
    case "fill": {
      const length = expr.kind === "string" ? BigInt(expr.bytes.length) : expr.count;
      if (end >= 0n && start <= end && end <= length) return sliceConstant(expr, start, end);
      if (end === -1n && start <= length) return sliceConstant(expr, start, length);
    }
  }
  return { kind: "slice", expr, start, end };
}

/** Bytes [start, end) of a string or fill, as a byte when just one. */
function sliceConstant(expr: NodeOf<"string" | "fill">, start: bigint, end: bigint): Node {
  if (expr.kind === "fill") {
    return end - start === 1n
      ? { kind: "byte", value: expr.value }
      : { kind: "fill", value: expr.value, count: end - start };
  }
  const bytes = expr.bytes.subarray(Number(start), Number(end));
  return bytes.length === 1 ? { kind: "byte", value: bytes[0] } : { kind: "string", bytes };
}

/** A run of neighbouring bytes, strings and fills being joined into one node. */
type Joined =
  | { kind: "byte"; value: number }
  | { kind: "fill"; value: number; count: bigint }
  | { kind: "string"; parts: Uint8Array[]; length: number };

/**
 * Joins neighbours left to right as nbdkit's exprs_can_combine pairs them: byte+byte,
 * byte+string, string+byte, string+string, and a byte or fill next to a fill of the same byte.
 * Strings are gathered as parts and copied once, so a long list of bytes costs linear time.
 */
function joinNeighbours(items: readonly Node[]): Node[] {
  const out: Node[] = [];
  let open: Joined | undefined;
  let openNode: Node | undefined; // the node `open` came from, while nothing has joined it
  const close = () => {
    if (open !== undefined) out.push(openNode ?? toNode(open));
    open = openNode = undefined;
  };
  for (const node of items) {
    const next = toJoined(node);
    const joined = open !== undefined && next !== undefined ? join(open, next) : undefined;
    if (joined !== undefined) {
      open = joined;
      openNode = undefined;
      continue;
    }
    close();
    if (next === undefined) out.push(node);
    else [open, openNode] = [next, node];
  }
  close();
  return out;
}

function toJoined(node: Node): Joined | undefined {
  switch (node.kind) {
    case "byte":
      return { kind: "byte", value: node.value };
    case "fill":
      return { kind: "fill", value: node.value, count: node.count };
    case "string":
      return { kind: "string", parts: [node.bytes], length: node.bytes.length };
    default:
      return undefined;
  }
}

function join(left: Joined, right: Joined): Joined | undefined {
  if (left.kind === "byte" && right.kind === "byte" && left.value === right.value) {
    return { kind: "fill", value: left.value, count: 2n };
  }
  if (left.kind === "fill" || right.kind === "fill") {
    if (left.kind === "string" || right.kind === "string" || left.value !== right.value) {
      return undefined;
    }
    return { kind: "fill", value: left.value, count: countOf(left) + countOf(right) };
  }
  const parts = left.kind === "string" ? left.parts : [Uint8Array.of(left.value)];
  if (right.kind === "string") parts.push(...right.parts);
  else parts.push(Uint8Array.of(right.value));
  const length = (left.kind === "string" ? left.length : 1) +
    (right.kind === "string" ? right.length : 1);
  return { kind: "string", parts, length };
}

function countOf(joined: Joined & { kind: "byte" | "fill" }): bigint {
  return joined.kind === "fill" ? joined.count : 1n;
}

function toNode(joined: Joined): Node {
  if (joined.kind !== "string") return joined;
  const bytes = new Uint8Array(joined.length);
  let at = 0;
  for (const part of joined.parts) {
    bytes.set(part, at);
    at += part.length;
  }
  return { kind: "string", bytes };
}
