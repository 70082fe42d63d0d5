/**
 * Splits a data expression (its UTF-8 bytes) into tokens, one per call to next(), in nbdkit's
 * grammar: each token says where it began, and a malformed one is a ConfigError naming the
 * byte offset as nbdkit's "parsing error at offset N" does. It knows no structure: brackets,
 * postfix operators and scopes are the parser's job.
 */

import { ConfigError } from "../../api/errors.ts";
import type { OffsetMode } from "./ast.ts";
import { type Literal, readQuoted, readWord } from "./literals.ts";
import { isSpace, scanLong, toCInt } from "./scan-integer.ts";

export type Token =
  | { readonly kind: "byte"; readonly at: number; readonly value: number }
  | { readonly kind: "string"; readonly at: number; readonly bytes: Uint8Array }
  | {
    readonly kind: "offset";
    readonly at: number;
    readonly mode: OffsetMode;
    readonly value: bigint;
  }
  | { readonly kind: "file"; readonly at: number; readonly path: string }
  | { readonly kind: "script"; readonly at: number; readonly script: string }
  | { readonly kind: "name"; readonly at: number; readonly name: string }
  | { readonly kind: "assign"; readonly at: number; readonly name: string }
  | { readonly kind: "var"; readonly at: number; readonly name: string }
  | { readonly kind: "repeat"; readonly at: number; readonly count: bigint }
  | { readonly kind: "slice"; readonly at: number; readonly start: bigint; readonly end: bigint }
  | { readonly kind: "open" | "close" | "end"; readonly at: number };

const CHAR = {
  HASH: 0x23,
  DOLLAR: 0x24,
  QUOTE: 0x22,
  OPEN: 0x28,
  CLOSE: 0x29,
  STAR: 0x2a,
  PLUS: 0x2b,
  MINUS: 0x2d,
  COLON: 0x3a,
  LESS: 0x3c,
  GREATER: 0x3e,
  AT: 0x40,
  BRACKET: 0x5b,
  BACKSLASH: 0x5c,
  CLOSE_BRACKET: 0x5d,
  CARET: 0x5e,
  UNDERSCORE: 0x5f,
  B: 0x62,
  L: 0x6c,
  NEWLINE: 0x0a,
} as const;

/** What ends a <FILE name: nbdkit's strcspn set "*[) \t\n" (other white space does not). */
const FILE_END = new Set<number>([CHAR.STAR, CHAR.BRACKET, CHAR.CLOSE, 0x20, 0x09, CHAR.NEWLINE]);

const decoder = new TextDecoder();

function isDigit(byte: number): boolean {
  return byte >= 0x30 && byte <= 0x39;
}

function isAlpha(byte: number): boolean {
  return (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7a;
}

/** Characters of a \NAME after the backslash: letters, digits, '_' and '-'. */
function isNameChar(byte: number): boolean {
  return isAlpha(byte) || isDigit(byte) || byte === CHAR.UNDERSCORE || byte === CHAR.MINUS;
}

/** Characters of a $VAR after the first: letters, digits and '_'. */
function isVarChar(byte: number): boolean {
  return isAlpha(byte) || isDigit(byte) || byte === CHAR.UNDERSCORE;
}

/** The character at `at` for an error message. */
function describe(src: Uint8Array, at: number): string {
  if (at >= src.length) return "end of data";
  const byte = src[at];
  return byte > 0x20 && byte < 0x7f
    ? `'${String.fromCharCode(byte)}'`
    : `byte 0x${byte.toString(16).padStart(2, "0")}`;
}

/** nbdkit's generic complaint, with what was found (or expected) there. */
export function parseError(src: Uint8Array, at: number, detail?: string): ConfigError {
  return new ConfigError(
    `data parameter: parsing error at offset ${at}: ${detail ?? `unexpected ${describe(src, at)}`}`,
  );
}

export class Lexer {
  readonly #src: Uint8Array;
  #at = 0;

  constructor(src: Uint8Array) {
    this.#src = src;
  }

  /** The next token; "end" once the bytes are used up, for ever after. */
  next(): Token {
    const src = this.#src;
    for (;;) {
      const at = this.#at;
      if (at >= src.length) return { kind: "end", at };
      const byte = src[at];
      if (isSpace(byte)) {
        this.#at++;
        continue;
      }
      if (isDigit(byte)) return this.#byte(at);
      switch (byte) {
        case CHAR.HASH: // a comment, to the end of the line
          while (this.#at < src.length && src[this.#at] !== CHAR.NEWLINE) this.#at++;
          continue;
        case CHAR.OPEN:
        case CHAR.CLOSE:
          this.#at++;
          return { kind: byte === CHAR.OPEN ? "open" : "close", at };
        case CHAR.QUOTE:
          return this.#literal(at, readQuoted(src, at + 1));
        case CHAR.L:
        case CHAR.B:
          return this.#literal(at, readWord(src, at));
        case CHAR.AT:
          return this.#offset(at);
        case CHAR.STAR:
          return this.#repeat(at);
        case CHAR.BRACKET:
          return this.#slice(at);
        case CHAR.LESS:
          return this.#input(at);
        case CHAR.BACKSLASH:
          return { kind: "name", at, name: this.#name(at) };
        case CHAR.MINUS:
          return this.#assign(at);
        case CHAR.DOLLAR:
          return this.#variable(at);
        default:
          throw parseError(src, at);
      }
    }
  }

  #literal(at: number, { bytes, end }: Literal): Token {
    this.#at = end;
    return { kind: "string", at, bytes };
  }

  /** BYTE: read as scanf("%i") into an int, so 0x, 0 (octal) and decimal; 0 to 255. */
  #byte(at: number): Token {
    const scanned = scanLong(this.#src, at)!; // a digit is there: never undefined
    const value = toCInt(scanned.value);
    if (value < 0 || value > 255) {
      throw new ConfigError("data parameter BYTE must be in the range 0..255");
    }
    this.#at = scanned.end;
    return { kind: "byte", at, value };
  }

  /** @OFFSET, @+N, @-N, @^ALIGNMENT. */
  #offset(at: number): Token {
    const src = this.#src;
    let i = at + 1;
    if (i >= src.length) throw parseError(src, i, "expected an offset after '@'");
    const sign = src[i];
    if (isDigit(sign)) {
      const scanned = scanLong(src, i)!;
      this.#at = scanned.end;
      return { kind: "offset", at, mode: "absolute", value: scanned.value };
    }
    const symbol = String.fromCharCode(sign);
    if (sign !== CHAR.PLUS && sign !== CHAR.MINUS && sign !== CHAR.CARET) {
      throw parseError(src, i, `expected a number, '+', '-' or '^' after '@'`);
    }
    if (++i >= src.length) throw parseError(src, i, `expected a number after '@${symbol}'`);
    const scanned = scanLong(src, i);
    if (scanned === undefined) throw parseError(src, i, `expected a number after '@${symbol}'`);
    if (scanned.value < 0n) {
      throw new ConfigError(`data parameter after @${symbol} must not be negative`);
    }
    this.#at = scanned.end;
    const value = scanned.value;
    if (sign === CHAR.CARET) {
      if (value === 0n || (value & (value - 1n)) !== 0n) {
        throw new ConfigError(`data parameter @^${value} must be a power of 2`);
      }
      return { kind: "offset", at, mode: "align", value };
    }
    return { kind: "offset", at, mode: "relative", value: sign === CHAR.PLUS ? value : -value };
  }

  /** *N: a count as scanf("%li") reads it (white space and a sign allowed). */
  #repeat(at: number): Token {
    const scanned = scanLong(this.#src, at + 1);
    if (scanned === undefined) throw new ConfigError("*N not numeric");
    if (scanned.value < 0n) throw new ConfigError("data parameter *N must not be negative");
    this.#at = scanned.end;
    return { kind: "repeat", at, count: scanned.value };
  }

  /** [N:M], [:M], [N:], [:], each number as scanf("%li") reads it. */
  #slice(at: number): Token {
    const src = this.#src;
    const i = at + 1;
    let start = 0n;
    let end = -1n;
    let next: number | undefined;
    const first = scanLong(src, i);
    if (first !== undefined) {
      if (src[first.end] === CHAR.COLON) {
        start = first.value;
        const second = scanLong(src, first.end + 1);
        if (second !== undefined && src[second.end] === CHAR.CLOSE_BRACKET) {
          end = second.value;
          next = second.end + 1;
        } else if (second === undefined && src[first.end + 1] === CHAR.CLOSE_BRACKET) {
          next = first.end + 2;
        }
      }
    } else if (src[i] === CHAR.COLON) {
      const second = scanLong(src, i + 1);
      if (second !== undefined && src[second.end] === CHAR.CLOSE_BRACKET) {
        end = second.value;
        next = second.end + 1;
      } else if (src[i + 1] === CHAR.CLOSE_BRACKET) {
        next = i + 2;
      }
    }
    if (next === undefined) throw new ConfigError("enclosed pattern (...)[N:M] not numeric");
    this.#at = next;
    return { kind: "slice", at, start: BigInt.asUintN(64, start), end };
  }

  /** <FILE or <(SCRIPT). */
  #input(at: number): Token {
    const src = this.#src;
    if (src[at + 1] === CHAR.OPEN) {
      const from = at + 2;
      let depth = 0;
      let i = from;
      for (; i < src.length; i++) {
        if (src[i] === CHAR.OPEN) depth++;
        else if (src[i] === CHAR.CLOSE && depth-- === 0) break;
      }
      if (i >= src.length) throw parseError(src, from, "<(SCRIPT) has no closing ')'");
      if (i === from) throw parseError(src, from, "<(SCRIPT) is empty");
      this.#at = i + 1;
      return { kind: "script", at, script: decoder.decode(src.subarray(from, i)) };
    }
    let end = at + 1;
    while (end < src.length && !FILE_END.has(src[end])) end++;
    if (end === at + 1) throw new ConfigError("data parameter <FILE not a filename");
    this.#at = end;
    return { kind: "file", at, path: decoder.decode(src.subarray(at + 1, end)) };
  }

  /** A \NAME starting at or after white space from `from`; returns the name. */
  #name(from: number): string {
    const src = this.#src;
    let i = from;
    while (i < src.length && isSpace(src[i])) i++;
    if (i >= src.length || src[i] !== CHAR.BACKSLASH || i + 1 >= src.length) {
      throw parseError(src, from, "expected \\NAME");
    }
    const start = ++i;
    while (i < src.length && isNameChar(src[i])) i++;
    if (i === start) throw parseError(src, start, "expected a name after '\\'");
    this.#at = i;
    return decoder.decode(src.subarray(start, i));
  }

  /** -> \NAME */
  #assign(at: number): Token {
    if (this.#src[at + 1] !== CHAR.GREATER) {
      throw parseError(this.#src, at + 1, "expected '->'");
    }
    return { kind: "assign", at, name: this.#name(at + 2) };
  }

  /** $VAR: a letter or '_', then letters, digits and '_'. */
  #variable(at: number): Token {
    const src = this.#src;
    const start = at + 1;
    if (start >= src.length) throw parseError(src, at, "expected a variable name after '$'");
    let i = start;
    if (isAlpha(src[i]) || src[i] === CHAR.UNDERSCORE) {
      while (i < src.length && isVarChar(src[i])) i++;
    }
    if (i === start) throw parseError(src, start, "expected a variable name after '$'");
    this.#at = i;
    return { kind: "var", at, name: decoder.decode(src.subarray(start, i)) };
  }
}
