/**
 * Source text with comments, regular expressions and, if asked, string contents blanked out,
 * for tests that read our own sources (runtime names in the core, the import graph).
 */

/** Keywords after which a `/` starts a regular expression rather than dividing. */
const BEFORE_REGEX =
  /(?:^|[^\w$])(?:return|typeof|case|do|else|in|of|new|delete|void|throw|yield|await)$/;

/**
 * `source` with comments, regular expressions and (unless `keepStrings`) the contents of string
 * and template literals replaced by spaces; line breaks stay, so line numbers still match.
 * A small lexer, enough for our own sources: code inside `${…}` stays code.
 */
export function blankCommentsAndStrings(source: string, options = { keepStrings: false }): string {
  const out = source.split("");
  const blank = (from: number, to: number) => {
    for (let i = from; i < to; i++) if (out[i] !== "\n") out[i] = " ";
  };
  const templateDepths: number[] = []; // brace depth at each open `${`, innermost last
  let depth = 0;
  let i = 0;
  let lastCode = ""; // code seen since the last line break, to tell a regex from a division
  const scanQuoted = (quote: string): number => {
    let j = i + 1;
    while (j < source.length && source[j] !== quote) j += source[j] === "\\" ? 2 : 1;
    return j; // index of the closing quote
  };
  /** Scans template text from `i` (just after "`" or "}"); returns where it stopped. */
  const scanTemplate = (): void => {
    let j = i;
    while (
      j < source.length && source[j] !== "`" && !(source[j] === "$" && source[j + 1] === "{")
    ) {
      j += source[j] === "\\" ? 2 : 1;
    }
    if (!options.keepStrings) blank(i, j);
    if (source[j] === "`") {
      i = j + 1;
    } else {
      templateDepths.push(depth);
      depth++;
      i = j + 2;
    }
  };
  while (i < source.length) {
    const c = source[i];
    const next = source[i + 1];
    if (c === "/" && next === "/") {
      const end = source.indexOf("\n", i);
      const stop = end === -1 ? source.length : end;
      blank(i, stop);
      i = stop;
    } else if (c === "/" && next === "*") {
      const end = source.indexOf("*/", i + 2);
      const stop = end === -1 ? source.length : end + 2;
      blank(i, stop);
      i = stop;
    } else if (c === "'" || c === '"') {
      const end = scanQuoted(c);
      if (!options.keepStrings) blank(i + 1, end);
      lastCode += "s";
      i = end + 1;
    } else if (c === "`") {
      i++;
      scanTemplate();
      lastCode += "s";
    } else if (
      c === "/" && (/[(,=:[!&|?{};+\-*%<>~^]$/.test(lastCode.trimEnd()) ||
        lastCode.trim() === "" || BEFORE_REGEX.test(lastCode.trimEnd()))
    ) {
      let j = i + 1;
      let inClass = false;
      while (j < source.length && source[j] !== "\n" && (inClass || source[j] !== "/")) {
        if (source[j] === "\\") j++;
        else if (source[j] === "[") inClass = true;
        else if (source[j] === "]") inClass = false;
        j++;
      }
      blank(i + 1, j);
      lastCode += "r";
      i = j + 1;
    } else {
      if (c === "{") depth++;
      if (c === "}") {
        depth--;
        if (templateDepths.length > 0 && templateDepths[templateDepths.length - 1] === depth) {
          templateDepths.pop();
          i++;
          scanTemplate();
          continue;
        }
      }
      lastCode = c === "\n" ? "" : lastCode + c;
      i++;
    }
  }
  return out.join("");
}
