/**
 * Builds the expression tree from a data expression: groups, postfix operators (*N, [N:M],
 * -> \NAME) applied to the expression just before them, and $VAR expanded in place as a group
 * of its own, parsed from its text as nbdkit does. It evaluates nothing.
 */

import { ConfigError } from "../../api/errors.ts";
import { isDataNode, type Node } from "./ast.ts";
import { Lexer, type Token } from "./lexer.ts";
import { LIMITS } from "./limits.ts";

export interface ParseOptions {
  /** The text of $NAME: a plugin parameter, else an environment variable; undefined if neither. */
  lookupVariable(name: string): string | undefined;
}

interface ParseState {
  readonly options: ParseOptions;
  nodes: number;
}

const encoder = new TextEncoder();

/** Parses `text` into one "list" node, the scope of the whole expression. */
export function parseData(text: string, options: ParseOptions): Node {
  return parseSource(text, { options, nodes: 0 }, 0);
}

/** The whole of `text` (the expression, or a variable's value) as one list. */
function parseSource(text: string, state: ParseState, depth: number): Node {
  return parseList(new Lexer(encoder.encode(text)), state, depth, false);
}

/** Items up to the end of the text or, when `nested`, up to the matching ')'. */
function parseList(lexer: Lexer, state: ParseState, depth: number, nested: boolean): Node {
  if (depth > LIMITS.depth) {
    throw new ConfigError(`data parameter: nested more than ${LIMITS.depth} deep`);
  }
  const items: Node[] = [];
  for (;;) {
    const token = lexer.next();
    if (++state.nodes > LIMITS.nodes) {
      throw new ConfigError(`data parameter: more than ${LIMITS.nodes} expressions`);
    }
    switch (token.kind) {
      case "end":
        if (nested) throw new ConfigError("unmatched '(' in data string");
        return { kind: "list", items };
      case "close":
        if (!nested) throw new ConfigError("unmatched ')' in data string");
        return { kind: "list", items };
      case "open":
        items.push(parseList(lexer, state, depth + 1, true));
        break;
      case "var": {
        const text = state.options.lookupVariable(token.name);
        if (text === undefined) throw new ConfigError(`$${token.name}: variable not found`);
        items.push(parseSource(text, state, depth + 1));
        break;
      }
      case "repeat":
      case "slice":
      case "assign":
        items.push(applyPostfix(token, takeOperand(items, token)));
        break;
      default:
        items.push(leaf(token));
    }
  }
}

const OPERATOR = { repeat: "*N", slice: "[N:M]", assign: "->" } as const;

/** Removes and returns the expression a postfix operator applies to. */
function takeOperand(items: Node[], token: Token & { kind: keyof typeof OPERATOR }): Node {
  const operator = OPERATOR[token.kind];
  const operand = items.pop();
  if (operand === undefined) throw new ConfigError(`${operator} must follow an expression`);
  if (!isDataNode(operand)) {
    throw new ConfigError(`${operator} cannot be applied to this type of expression`);
  }
  return operand;
}

function applyPostfix(token: Token & { kind: keyof typeof OPERATOR }, expr: Node): Node {
  switch (token.kind) {
    case "repeat":
      return { kind: "repeat", expr, count: token.count };
    case "slice":
      return { kind: "slice", expr, start: token.start, end: token.end };
    case "assign":
      return { kind: "assign", name: token.name, expr };
  }
}

/** A token that is an expression on its own. */
function leaf(token: Token): Node {
  switch (token.kind) {
    case "byte":
      return { kind: "byte", value: token.value };
    case "string":
      return { kind: "string", bytes: token.bytes };
    case "offset":
      return { kind: "offset", mode: token.mode, value: token.value };
    case "file":
      return { kind: "file", path: token.path };
    case "script":
      return { kind: "script", script: token.script };
    case "name":
      return { kind: "name", name: token.name };
    default:
      throw new Error(`data parser: unexpected ${token.kind} token`); // handled by the caller
  }
}
