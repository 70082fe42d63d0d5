/**
 * Quotes a word for a POSIX shell as nbdkit's shell_quote does (common/utils/quote.c): as-is
 * when every character is safe, else in double quotes with $ ` \ " escaped.
 */

/** Characters nbdkit leaves unquoted; the empty word is always quoted, as "". */
const SAFE = /^[A-Za-z0-9.\-_=,:/]+$/;

export function shellQuote(word: string): string {
  if (SAFE.test(word)) return word;
  return `"${word.replace(/[$`\\"]/g, (c) => `\\${c}`)}"`;
}
