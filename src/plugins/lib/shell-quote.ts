/**
 * A word quoted as nbdkit's shell_quote quotes it (common/utils/quote.c), for the sh plugin's
 * debug log and the shell variables of tmpdisk's and ondemand's command: as it is when every
 * character is safe (so `key=value` stays an assignment), else in double quotes with $ ` \ "
 * escaped.
 */

const SAFE = /^[A-Za-z0-9.\-_=,:/]+$/;

export function shellQuote(word: string): string {
  if (SAFE.test(word)) return word;
  return `"${word.replace(/[$`\\"]/g, (c) => `\\${c}`)}"`;
}
