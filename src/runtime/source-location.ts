/**
 * A plugin module that does not parse, told the way Deno tells it: the file, line and column,
 * the message, then the offending line with the spot marked. Node's V8 gives no location for an
 * ES module's syntax error and Bun's names only how many errors there were, but esbuild's
 * messages (Node) and Bun's BuildMessages carry one; both are read here, runtime-neutrally.
 */

/** Where a module failed to parse: line and column count from 1. */
export interface SourceLocation {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  /** How many characters to mark (at least one). */
  readonly length?: number;
  /** The text of that line, when known. */
  readonly lineText?: string;
}

/** One diagnostic: what is wrong, and where. */
export interface Diagnostic {
  readonly message: string;
  readonly location: SourceLocation;
}

/** `file` relative to `cwd` when it lies under it, as a user typed it. */
function shown(file: string, cwd: string | undefined): string {
  const base = cwd?.endsWith("/") ? cwd : `${cwd}/`;
  return cwd !== undefined && file.startsWith(base) ? file.slice(base.length) : file;
}

/**
 * "FILE:LINE:COLUMN: MESSAGE", then the line with the spot marked under it, then how many more
 * errors there were: the first diagnostic is the one to fix first.
 */
export function diagnosticText(diagnostics: readonly Diagnostic[], cwd?: string): string {
  const [first] = diagnostics;
  if (first === undefined) return "the module does not parse";
  const { file, line, column, length, lineText } = first.location;
  let text = `${shown(file, cwd)}:${line}:${column}: ${first.message}`;
  if (lineText !== undefined) {
    const gutter = `${line} | `;
    const mark = " ".repeat(gutter.length - 2) + "| " + " ".repeat(Math.max(0, column - 1)) +
      "^".repeat(Math.max(1, length ?? 1));
    text += `\n  ${gutter}${lineText}\n  ${mark}`;
  }
  const more = diagnostics.length - 1;
  if (more > 0) text += `\n  (and ${more} more error${more === 1 ? "" : "s"})`;
  return text;
}

/** An error whose message is `diagnostics` told as diagnosticText tells them. */
export function locatedError(diagnostics: readonly Diagnostic[], cwd?: string): Error {
  const error = new SyntaxError(diagnosticText(diagnostics, cwd));
  error.stack = `SyntaxError: ${error.message}`; // its frames are the loader's, not the plugin's
  return error;
}

/** esbuild's message shape (Message in its API): the column counts from 0. */
interface EsbuildMessage {
  text: string;
  location: { file: string; line: number; column: number; length: number; lineText: string } | null;
}

/** esbuild's errors with a location, as diagnostics. */
export function esbuildDiagnostics(errors: readonly EsbuildMessage[]): Diagnostic[] {
  return errors.flatMap(({ text, location }) =>
    location === null ? [] : [{
      message: text,
      location: { ...location, column: location.column + 1 },
    }]
  );
}

/** Bun's BuildMessage: `position` with line and column from 1. */
interface BunBuildMessage {
  message: string;
  position?: {
    file: string;
    line: number;
    column: number;
    length?: number;
    lineText?: string;
  } | null;
}

/**
 * The diagnostics in what Bun threw for a module that did not build: one BuildMessage, or an
 * AggregateError of them. Empty when it threw anything else.
 */
export function bunDiagnostics(error: unknown): Diagnostic[] {
  const list: unknown[] = error instanceof AggregateError ? error.errors : [error];
  return list.flatMap((entry) => {
    const position = (entry as BunBuildMessage | null)?.position;
    if (typeof position !== "object" || position === null) return [];
    return [{ message: String((entry as BunBuildMessage).message), location: position }];
  });
}
