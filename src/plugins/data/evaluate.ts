/**
 * Evaluates an (optimized) expression tree into a Layout, scope by scope as nbdkit's evaluate
 * does: each group, repeat and slice is a fresh scope with its own offset starting at 0;
 * `expr -> \NAME` binds the expression, unevaluated, for the rest of the scope; \NAME evaluates
 * it in the scope where it was bound. A binding is evaluated once and its layout reused
 * (scripts must be idempotent, says the man page), so chains of names cost linear time.
 */

import { ConfigError } from "../../api/errors.ts";
import type { Node, NodeOf } from "./ast.ts";
import type { Sources } from "./hooks.ts";
import { type Layout, repeatLayout, sliceLayout } from "./layout.ts";
import { LayoutBuilder } from "./layout-builder.ts";
import { Budget, LIMITS } from "./limits.ts";

/** One `expr -> \NAME`, with the scope it was made in. */
interface Binding {
  readonly name: string;
  readonly expr: Node;
  readonly scope: Scope;
  layout?: Promise<Layout>;
}

/** The bindings visible at a point, newest first. */
type Scope = { readonly binding: Binding; readonly parent: Scope } | undefined;

/** C's LONG_MAX: an fseek offset past it fails. */
const LONG_MAX = (1n << 63n) - 1n;

/** Evaluates `root` (a list, usually) as the top-level scope. */
export function evaluate(root: Node, sources: Sources): Promise<Layout> {
  return new Evaluator(sources).scope(root, undefined, 0);
}

class Evaluator {
  readonly #sources: Sources;
  readonly #budget = new Budget();

  constructor(sources: Sources) {
    this.#sources = sources;
  }

  /** A node as a scope of its own: a list's items, or the node alone. */
  async scope(node: Node, scope: Scope, depth: number): Promise<Layout> {
    if (depth > LIMITS.depth) {
      throw new ConfigError(`data parameter: nested more than ${LIMITS.depth} deep`);
    }
    const out = new LayoutBuilder(this.#budget);
    for (const item of node.kind === "list" ? node.items : [node]) {
      if (item.kind === "assign") {
        scope = { binding: { name: item.name, expr: item.expr, scope }, parent: scope };
      } else {
        await this.#item(item, scope, depth, out);
      }
    }
    return out.finish();
  }

  async #item(item: Node, scope: Scope, depth: number, out: LayoutBuilder): Promise<void> {
    switch (item.kind) {
      case "null":
      case "assign":
        return;
      case "byte":
        return out.writeBytes(Uint8Array.of(item.value));
      case "string":
        return out.writeBytes(item.bytes);
      case "fill":
        return out.writeFill(item.value, item.count);
      case "offset":
        if (item.mode === "absolute") return out.moveTo(item.value);
        if (item.mode === "relative") return out.moveBy(item.value);
        return out.alignTo(item.value);
      case "file":
        return out.writeBytes(await this.#read(item.path, 0n, undefined));
      case "script":
        return out.writeBytes(await this.#run(item.script, undefined));
      case "name":
        return out.writeLayout(await this.#lookup(item.name, scope, depth));
      case "list":
        return out.writeLayout(await this.scope(item, scope, depth + 1));
      case "repeat": {
        const layout = await this.scope(item.expr, scope, depth + 1);
        return out.writeLayout(repeatLayout(layout, item.count, this.#budget));
      }
      case "slice":
        return this.#slice(item, scope, depth, out);
    }
  }

  async #slice(item: NodeOf<"slice">, scope: Scope, depth: number, out: LayoutBuilder) {
    const { expr, start, end } = item;
    // nbdkit reads only the part of a file a slice wants (so </dev/urandom[:512] ends), and
    // only the first bytes of a script's output; their bounds follow its store_file_slice and
    // store_script_len, quirks included (a script sliced [:] or [0:] gives nothing).
    if (expr.kind === "file") return out.writeBytes(await this.#fileSlice(expr.path, start, end));
    if (expr.kind === "script" && start === 0n) {
      return out.writeBytes(await this.#run(expr.script, end > 0n ? end : 0n));
    }
    const layout = await this.scope(expr, scope, depth + 1);
    const stop = end < 0n ? layout.size : end;
    if (start > layout.size || stop > layout.size || start > stop) {
      throw new ConfigError("[N:M] does not describe a valid slice");
    }
    out.writeLayout(sliceLayout(layout, start, stop, this.#budget));
  }

  #fileSlice(path: string, start: bigint, end: bigint): Promise<Uint8Array> {
    if ((end >= 0n && start > end) || end < -2n) {
      throw new ConfigError("<FILE[N:M] does not describe a valid slice");
    }
    if (start > LONG_MAX) throw new ConfigError(`${path}: fseek: Invalid argument`);
    const length = end >= 0n ? end - start : end === -2n ? 0n : undefined;
    return this.#read(path, start, length);
  }

  async #read(path: string, offset: bigint, length: bigint | undefined): Promise<Uint8Array> {
    const bytes = await this.#sources.readFile(
      path,
      safe(offset),
      length === undefined ? undefined : safe(length),
    );
    this.#budget.spendBytes(bytes.length);
    return bytes;
  }

  async #run(script: string, limit: bigint | undefined): Promise<Uint8Array> {
    const max = limit === undefined ? undefined : safe(limit);
    const { output, status } = await this.#sources.runCommand(script, max);
    if (max === undefined && status !== 0) {
      throw new ConfigError(`<(${script}): external command failed with status ${status}`);
    }
    const bytes = max !== undefined && output.length > max ? output.subarray(0, max) : output;
    this.#budget.spendBytes(bytes.length);
    return bytes;
  }

  #lookup(name: string, scope: Scope, depth: number): Promise<Layout> {
    for (let at = scope; at !== undefined; at = at.parent) {
      const { binding } = at;
      if (binding.name === name) {
        binding.layout ??= this.scope(binding.expr, binding.scope, depth + 1);
        return binding.layout;
      }
    }
    throw new ConfigError(`\\${name} not defined`);
  }
}

/** A count for a hook: exact up to 2^53, beyond which no file or output reaches anyway. */
function safe(value: bigint): number {
  return value > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(value);
}
