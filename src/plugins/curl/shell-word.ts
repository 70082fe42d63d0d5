/** Quotes text as one word for /bin/sh: inside single quotes, each ' written as '\''. */

export function shellWord(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}
