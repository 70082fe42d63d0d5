/** Command lines that need no plugin are answered at once, in the name the program answers to. */

import { expect, test } from "vitest";
import { answerWithoutPlugin } from "../../src/cli/answer-without-plugin.ts";
import { parseCommandLine } from "../../src/cli/args.ts";
import { identify } from "../../src/cli/program-name.ts";

const NBDKIT = identify("/usr/local/bin/nbdkit", "/");
const NBDTS = identify("/srv/nbd.js", "/");
const node = { name: "node", tls: true };

function answer(self = NBDTS, ...argv: string[]): string | undefined {
  return answerWithoutPlugin(parseCommandLine(argv, { program: self.name }), self, node);
}

test("--version without a plugin is the program's line alone", () => {
  expect(answer(NBDTS, "--version")).toBe("nbdts 0.1.0\n");
  expect(answer(NBDKIT, "--version")).toBe("nbdkit 1.32.5 (nbdts 0.1.0)\n");
});

test("--dump-config describes the identity and the runtime", () => {
  expect(answer(NBDKIT, "--dump-config")).toContain("\nversion=1.32.5\n");
  expect(answer(NBDTS, "--dump-config")).toContain("\nruntime=node\nselinux=no\ntls=yes\n");
});

test("--help without a plugin is the usage in the program's name", () => {
  expect(answer(NBDKIT, "--help")?.startsWith("nbdkit [")).toBe(true);
});

test("--long-options and --short-options list options, one a line", () => {
  expect(answer(NBDTS, "--long-options")).toMatch(/^--\S+\n/);
  expect(answer(NBDTS, "--short-options")).toMatch(/^-\S\n/);
});

test("a command line naming a plugin gets no answer here", () => {
  expect(answer(NBDTS, "memory", "--version")).toBeUndefined();
  expect(answer(NBDTS, "memory", "1M")).toBeUndefined();
});
