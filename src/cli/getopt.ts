/**
 * Splits argv into options and operands as glibc's getopt_long does for nbdkit: options may
 * come anywhere (GNU permutation: `nbdkit memory 1M -r` is read-only), short options bundle
 * (`-fv`, `-Ufoo`), a long option may be abbreviated to any unambiguous prefix (`--read`),
 * its argument follows `=` or comes as the next word, and `--` ends option parsing.
 * It knows the table's shape, never what an option means.
 */

import { ConfigError } from "../api/errors.ts";
import type { OptionSpec } from "./options.ts";

/**
 * A command-line syntax error: nbdkit prints getopt's message, then its usage text on stdout,
 * and exits 1. The caller prints `usageText()` after the message for this subclass.
 */
export class UsageError extends ConfigError {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** What getoptLong yields, in argv order. */
export type Token<Id extends string> =
  | {
    readonly kind: "option";
    readonly id: Id;
    /** How getopt names it in messages: "-U", or the full long name "--unix". */
    readonly spelling: string;
    /** The argument, for options that take one. */
    readonly value: string | undefined;
  }
  | { readonly kind: "operand"; readonly value: string };

/**
 * Yields each option and operand in argv order; throws UsageError at the first unknown option
 * or missing argument. Lazy, so a caller that acts on an option at once (nbdkit exits on
 * `--dump-config` before reading further) never sees errors further on.
 */
export function* getoptLong<Id extends string>(
  argv: readonly string[],
  table: readonly OptionSpec<Id>[],
): Generator<Token<Id>, void, void> {
  let next = 0;
  const takeNext = (): string | undefined => next < argv.length ? argv[next++] : undefined;
  while (next < argv.length) {
    const word = argv[next++];
    if (word === "--") {
      while (next < argv.length) yield { kind: "operand", value: argv[next++] };
      return;
    }
    if (word.startsWith("--")) yield longOption(word, table, takeNext);
    else if (word.startsWith("-") && word !== "-") yield* shortOptions(word, table, takeNext);
    else yield { kind: "operand", value: word };
  }
}

function longOption<Id extends string>(
  word: string,
  table: readonly OptionSpec<Id>[],
  takeNext: () => string | undefined,
): Token<Id> {
  const equals = word.indexOf("=");
  const typed = equals < 0 ? word.slice(2) : word.slice(2, equals);
  const inline = equals < 0 ? undefined : word.slice(equals + 1);
  const [name, spec] = matchLong(word, typed, table);
  const spelling = `--${name}`;
  if (!spec.argument) {
    if (inline !== undefined) {
      throw new UsageError(`option '${spelling}' doesn't allow an argument`);
    }
    return { kind: "option", id: spec.id, spelling, value: undefined };
  }
  const value = inline ?? takeNext();
  if (value === undefined) throw new UsageError(`option '${spelling}' requires an argument`);
  return { kind: "option", id: spec.id, spelling, value };
}

/** An exact long name wins; else a prefix whose matches all mean the same option. */
function matchLong<Id extends string>(
  word: string,
  typed: string,
  table: readonly OptionSpec<Id>[],
): [string, OptionSpec<Id>] {
  const candidates: [string, OptionSpec<Id>][] = [];
  for (const spec of table) {
    for (const name of spec.long) {
      if (name === typed) return [name, spec];
      if (name.startsWith(typed)) candidates.push([name, spec]);
    }
  }
  if (candidates.length === 0) throw new UsageError(`unrecognized option '${word}'`);
  const first = candidates[0];
  // glibc lists the first match and each later match that means something else
  const others = candidates.filter(([, spec]) => spec !== first[1]);
  if (others.length === 0) return first;
  const possibilities = [first, ...others].map(([name]) => `'--${name}'`).join(" ");
  throw new UsageError(`option '${word}' is ambiguous; possibilities: ${possibilities}`);
}

function* shortOptions<Id extends string>(
  word: string,
  table: readonly OptionSpec<Id>[],
  takeNext: () => string | undefined,
): Generator<Token<Id>, void, void> {
  const letters = [...word.slice(1)];
  for (let at = 0; at < letters.length; at++) {
    const letter = letters[at];
    const spec = table.find((option) => option.short === letter);
    if (spec === undefined) throw new UsageError(`invalid option -- '${letter}'`);
    const spelling = `-${letter}`;
    if (!spec.argument) {
      yield { kind: "option", id: spec.id, spelling, value: undefined };
      continue;
    }
    const attached = letters.slice(at + 1).join("");
    const value = attached !== "" ? attached : takeNext();
    if (value === undefined) throw new UsageError(`option requires an argument -- '${letter}'`);
    yield { kind: "option", id: spec.id, spelling, value };
    return;
  }
}
