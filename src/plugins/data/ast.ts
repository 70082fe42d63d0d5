/**
 * The expression tree of nbdkit's data format, one node kind per construct of man
 * nbdkit-data-plugin, plus "fill" (one byte N times), which the optimizer makes. Nodes are
 * plain immutable values: the parser builds them, the optimizer rebuilds them, and the
 * evaluator only reads them.
 */

export type Node =
  /** Nothing: an empty group, `""`, `x*0`, `x[N:N]`. */
  | { readonly kind: "null" }
  /** `( … )`, the whole expression, or an expanded $VAR: a scope of its own. */
  | { readonly kind: "list"; readonly items: readonly Node[] }
  /** BYTE: one byte, 0 to 255. */
  | { readonly kind: "byte"; readonly value: number }
  /** "STRING" and le/be words: bytes written in order. */
  | { readonly kind: "string"; readonly bytes: Uint8Array }
  /** `value` repeated `count` times (what `0x55*16` becomes). */
  | { readonly kind: "fill"; readonly value: number; readonly count: bigint }
  /** @OFFSET, @+N / @-N (a signed `value`), @^ALIGNMENT (a power of two). */
  | { readonly kind: "offset"; readonly mode: OffsetMode; readonly value: bigint }
  /** <FILE */
  | { readonly kind: "file"; readonly path: string }
  /** <(SCRIPT) */
  | { readonly kind: "script"; readonly script: string }
  /** \NAME: the expression last assigned to the name in scope. */
  | { readonly kind: "name"; readonly name: string }
  /** expr -> \NAME: names `expr` for the rest of this scope; writes nothing itself. */
  | { readonly kind: "assign"; readonly name: string; readonly expr: Node }
  /** expr*N */
  | { readonly kind: "repeat"; readonly expr: Node; readonly count: bigint }
  /**
   * expr[N:M]: `start` as C's uint64_t holds it (a negative N wraps), `end` signed, where any
   * negative value means "to the end" as in nbdkit.
   */
  | { readonly kind: "slice"; readonly expr: Node; readonly start: bigint; readonly end: bigint };

export type OffsetMode = "absolute" | "relative" | "align";

export type NodeKind = Node["kind"];

/** The node of a given kind. */
export type NodeOf<K extends NodeKind> = Extract<Node, { kind: K }>;

export const NULL_NODE: Node = { kind: "null" };

/**
 * Whether postfix operators (*N, [N:M], -> \NAME) may follow the node: anything but an
 * offset, as nbdkit's is_data_expr.
 */
export function isDataNode(node: Node): boolean {
  return node.kind !== "offset";
}
