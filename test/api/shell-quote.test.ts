import { describe, expect, test } from "vitest";
import { shellQuote } from "../../src/api/shell-quote.ts";

describe("shellQuote quotes as nbdkit's shell_quote", () => {
  test("safe words pass through", () => {
    expect(shellQuote("/tmp/nbdkitAbc/socket")).toBe("/tmp/nbdkitAbc/socket");
    expect(shellQuote("a.b-c_d=e,f:g")).toBe("a.b-c_d=e,f:g");
  });

  test('the empty word and unsafe words are double-quoted, escaping $ ` \\ "', () => {
    expect(shellQuote("")).toBe('""');
    expect(shellQuote("a b")).toBe('"a b"');
    expect(shellQuote('$x `y` \\ "z"')).toBe('"\\$x \\`y\\` \\\\ \\"z\\""');
    expect(shellQuote("it's")).toBe(`"it's"`);
  });
});
