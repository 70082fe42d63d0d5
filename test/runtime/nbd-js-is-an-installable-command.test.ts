/**
 * The package installs nbd.js as two commands, `nbdts` and `nbdkit` (package.json's bin), and a
 * link named either runs it: the bundle starts with a #! line naming node and is executable.
 * Run it straight, under each name, to see which one it answers to.
 */

import { readFileSync, statSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { expect, test } from "vitest";
import { expectSuccess, run, scratchDir } from "../helpers/captive.ts";
import { REPO_ROOT } from "../helpers/servers.ts";

const NBD_JS = join(REPO_ROOT, "nbd.js");

test("package.json installs nbd.js as nbdts and as nbdkit", () => {
  const manifest = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8"));
  expect(manifest.bin).toEqual({ nbdts: "nbd.js", nbdkit: "nbd.js" });
});

test("nbd.js starts with #!/usr/bin/env node and is executable", () => {
  expect(readFileSync(NBD_JS, "utf8").startsWith("#!/usr/bin/env node\n")).toBe(true);
  expect(statSync(NBD_JS).mode & 0o111).toBe(0o111);
});

test.each([
  ["nbdts", "nbdts 0.1.0\n"],
  ["nbdkit", "nbdkit 1.32.5 (nbdts 0.1.0)\n"],
])("a link named %s runs it and answers to that name", async (name, version) => {
  const link = join(scratchDir(), name);
  symlinkSync(NBD_JS, link);
  expect(expectSuccess(await run([link, "--version"])).stdout).toBe(version);
});
