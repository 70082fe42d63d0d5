/**
 * `deno task` works in a checkout after `npm ci`, which puts Deno's own binary at
 * node_modules/.bin/deno: Deno's task runner takes a bare `deno` found there for an npm script
 * and runs the binary as JavaScript ("Invalid or unexpected token"), so deno.json's tasks call
 * `env deno`, which finds the same binary on PATH and runs it as a program.
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { expectSuccess, run } from "../helpers/captive.ts";
import { REPO_ROOT } from "../helpers/servers.ts";

const DENO = join(REPO_ROOT, "node_modules", ".bin", "deno");

describe("deno task in a checkout with node_modules", () => {
  test("serve runs nbd.ts", async () => {
    const result = await run([DENO, "task", "--quiet", "serve", "--version"], { cwd: REPO_ROOT });
    expect(expectSuccess(result).stdout).toBe("nbdts 0.1.0\n");
  });

  test("check type-checks the sources", async () => {
    expectSuccess(await run([DENO, "task", "--quiet", "check"], { cwd: REPO_ROOT }));
  });

  test("no task runs a bare deno", () => {
    const tasks: Record<string, string> = JSON.parse(
      readFileSync(join(REPO_ROOT, "deno.json"), "utf8"),
    ).tasks;
    for (const [name, command] of Object.entries(tasks)) {
      expect(command, name).not.toMatch(/(^|[;&|]\s*)deno\s/);
    }
  });
});
