/**
 * A word quoted for the debug log as nbdkit's shell_quote quotes it (common/utils/quote.c): as
 * it is when every character is safe, else in double quotes with $ ` \ " escaped.
 */

const SAFE = /^[A-Za-z0-9.\-_=,:/]+$/;

export function shellQuote(word: string): string {
  if (SAFE.test(word)) return word;
  return `"${word.replace(/[$`\\"]/g, (c) => `\\${c}`)}"`;
}
