import { describe, expect, test } from "vitest";
import {
  bunDiagnostics,
  diagnosticText,
  esbuildDiagnostics,
  locatedError,
} from "../../src/runtime/source-location.ts";

const LINE = "    return { getSize: () => 1 readAt() {} };";

describe("diagnosticText tells where a module fails to parse", () => {
  test("file:line:column, the message, then the line with the spot marked", () => {
    const text = diagnosticText([{
      message: 'Expected "}" but found "readAt"',
      location: { file: "/home/me/disk/tiny.js", line: 4, column: 31, length: 6, lineText: LINE },
    }], "/home/me/disk");
    expect(text).toBe(
      'tiny.js:4:31: Expected "}" but found "readAt"\n' +
        `  4 | ${LINE}\n` +
        `    | ${" ".repeat(30)}^^^^^^`,
    );
  });

  test("a file outside the working directory keeps its path; more errors are counted", () => {
    const location = { file: "/elsewhere/a.js", line: 1, column: 1 };
    const text = diagnosticText([
      { message: "first", location },
      { message: "second", location },
      { message: "third", location },
    ], "/home/me");
    expect(text).toBe("/elsewhere/a.js:1:1: first\n  (and 2 more errors)");
  });

  test("locatedError is a SyntaxError whose stack is its message alone", () => {
    const error = locatedError([{
      message: "bad",
      location: { file: "a.js", line: 2, column: 3 },
    }]);
    expect(error).toBeInstanceOf(SyntaxError);
    expect(error.message).toBe("a.js:2:3: bad");
    expect(error.stack).toBe("SyntaxError: a.js:2:3: bad");
  });
});

describe("diagnostics from esbuild and from Bun", () => {
  test("esbuild's columns count from 0; messages without a location are left out", () => {
    const errors = [
      {
        text: "Unexpected ;",
        location: { file: "t.ts", line: 1, column: 18, length: 1, lineText: "x" },
      },
      { text: "no place", location: null },
    ];
    expect(esbuildDiagnostics(errors)).toEqual([{
      message: "Unexpected ;",
      location: { file: "t.ts", line: 1, column: 19, length: 1, lineText: "x" },
    }]);
  });

  test("Bun's BuildMessages, alone or in an AggregateError; anything else gives none", () => {
    const message = {
      message: "Unexpected }",
      position: { file: "/p/x.js", line: 5, column: 3, length: 1, lineText: "  }," },
    };
    const expected = [{ message: "Unexpected }", location: message.position }];
    expect(bunDiagnostics(message)).toEqual(expected);
    expect(bunDiagnostics(new AggregateError([message, message], "2 errors"))).toEqual([
      ...expected,
      ...expected,
    ]);
    expect(bunDiagnostics(new Error("Cannot find module './x.js'"))).toEqual([]);
    expect(bunDiagnostics({ message: "resolve", position: null })).toEqual([]);
  });
});
