import { describe, expect, test } from "vitest";
import { getoptLong, type Token, UsageError } from "../../src/cli/getopt.ts";
import { type OptionId, OPTIONS } from "../../src/cli/options.ts";

function scan(...argv: string[]): Token<OptionId>[] {
  return [...getoptLong(argv, OPTIONS)];
}

function options(...argv: string[]): [string, string | undefined][] {
  return scan(...argv).flatMap((t) => t.kind === "option" ? [[t.id, t.value]] : []);
}

function operands(...argv: string[]): string[] {
  return scan(...argv).flatMap((t) => t.kind === "operand" ? [t.value] : []);
}

function usageError(...argv: string[]): string {
  try {
    scan(...argv);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    return (error as Error).message;
  }
  throw new Error(`no error for ${argv.join(" ")}`);
}

describe("getoptLong reads short options", () => {
  test("bundled flags each count: -fv is -f -v", () => {
    expect(options("-fvr")).toEqual([["foreground", undefined], ["verbose", undefined], [
      "readonly",
      undefined,
    ]]);
  });

  test("an argument may be attached (-Ufoo) or the next word (-U foo)", () => {
    expect(options("-Ufoo")).toEqual([["unix", "foo"]]);
    expect(options("-U", "foo")).toEqual([["unix", "foo"]]);
  });

  test("an option taking an argument ends a bundle and takes the rest: -fU- is -f -U -", () => {
    expect(options("-fU-")).toEqual([["foreground", undefined], ["unix", "-"]]);
    expect(options("-fU", "sock")).toEqual([["foreground", undefined], ["unix", "sock"]]);
  });

  test("the next word is the argument even when it looks like an option", () => {
    expect(options("-e", "-r")).toEqual([["exportname", "-r"]]);
  });

  test("an unknown letter is named, even inside a bundle", () => {
    expect(usageError("-x")).toBe("invalid option -- 'x'");
    expect(usageError("-vx")).toBe("invalid option -- 'x'");
    expect(usageError("-fv-")).toBe("invalid option -- '-'");
  });

  test("a missing argument names the letter", () => {
    expect(usageError("-U")).toBe("option requires an argument -- 'U'");
    expect(usageError("-fp")).toBe("option requires an argument -- 'p'");
  });
});

describe("getoptLong reads long options", () => {
  test("an argument may follow '=' or come as the next word", () => {
    expect(options("--unix=foo")).toEqual([["unix", "foo"]]);
    expect(options("--unix", "foo")).toEqual([["unix", "foo"]]);
    expect(options("--unix=")).toEqual([["unix", ""]]);
    expect(options("--run=a=b")).toEqual([["run", "a=b"]]);
  });

  test("aliases are the same option", () => {
    for (const name of ["--export", "--export-name", "--exportname"]) {
      expect(options(name, "x")).toEqual([["exportname", "x"]]);
    }
    expect(options("--stdin", "--no-fork", "--read-only", "--pid-file=p")).toEqual([
      ["single", undefined],
      ["foreground", undefined],
      ["readonly", undefined],
      ["pidfile", "p"],
    ]);
  });

  test("an unambiguous prefix is enough, and prefixes of one option's aliases agree", () => {
    expect(options("--verb")).toEqual([["verbose", undefined]]);
    expect(options("--read")).toEqual([["readonly", undefined]]);
    expect(options("--exp", "x")).toEqual([["exportname", "x"]]);
    expect(options("--no-s")).toEqual([["no-sr", undefined]]);
  });

  test("an exact name wins over longer names it prefixes", () => {
    expect(options("--tls=on")).toEqual([["tls", "on"]]);
    expect(options("--export=x")).toEqual([["exportname", "x"]]);
  });

  test("an ambiguous prefix lists every candidate in table order, as glibc does", () => {
    expect(usageError("--ex=foo")).toBe(
      "option '--ex=foo' is ambiguous; possibilities: '--exit-with-parent' '--export' " +
        "'--export-name' '--exportname'",
    );
    expect(usageError("--no")).toBe(
      "option '--no' is ambiguous; possibilities: '--no-fork' '--no-sr' " +
        "'--no-extended-headers'",
    );
    expect(usageError("--r")).toBe(
      "option '--r' is ambiguous; possibilities: '--read-only' '--run'",
    );
  });

  test("an unknown name is quoted whole, with its value", () => {
    expect(usageError("--frob")).toBe("unrecognized option '--frob'");
    expect(usageError("--frob=1")).toBe("unrecognized option '--frob=1'");
  });

  test("a missing or unwanted argument names the option in full", () => {
    expect(usageError("--unix")).toBe("option '--unix' requires an argument");
    expect(usageError("--un")).toBe("option '--unix' requires an argument");
    expect(usageError("--verbose=1")).toBe("option '--verbose' doesn't allow an argument");
    expect(usageError("--verb=1")).toBe("option '--verbose' doesn't allow an argument");
  });
});

describe("getoptLong permutes operands as GNU getopt does", () => {
  test("options after operands are still options", () => {
    expect(operands("memory", "1M", "-r", "--run", "true")).toEqual(["memory", "1M"]);
    expect(options("memory", "1M", "-r", "--run", "true")).toEqual([
      ["readonly", undefined],
      ["run", "true"],
    ]);
  });

  test("'--' ends options: everything after it is an operand", () => {
    expect(operands("-r", "--", "memory", "-v", "--run", "x")).toEqual([
      "memory",
      "-v",
      "--run",
      "x",
    ]);
    expect(options("-r", "--", "memory", "-v")).toEqual([["readonly", undefined]]);
  });

  test("a lone '-' is an operand", () => {
    expect(operands("memory", "-")).toEqual(["memory", "-"]);
  });

  test("it is lazy: nothing past the token being read is looked at", () => {
    const tokens = getoptLong(["--dump-config", "--frob"], OPTIONS);
    expect(tokens.next().value).toMatchObject({ kind: "option", id: "dump-config" });
  });
});
