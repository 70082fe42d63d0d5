/**
 * The built-in plugins define the debug flags their nbdkit twins define, and print with them what
 * nbdkit prints (as debug lines, so with -v): `-D example2.extra=1` makes example2 log the size it
 * found, `-D data.AST=1` makes data log its expression tree once optimized, which scripts read to
 * see how an expression was simplified. Without the flag, or without -v, there is no such line;
 * either way the flag earns no "not used" warning.
 */

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { captive, expectSuccess, scratchDir } from "../helpers/captive.ts";
import { logLines } from "../helpers/debug-log.ts";
import { requireClients, servers } from "../helpers/servers.ts";

const EXPRESSION = String.raw`1 2 3 @0x1000 "text\x01\xff" (0xff)*512 ( 1 2 )*3 @^16 0 @+4 1 @-2 2
  ( 5 ) -> \a \a (0 1 2 3)[1:2] ( @+1 7 ( @+1 8 ) )`;

/** nbdkit 1.32.5's lines for EXPRESSION, between BEGIN AST and END AST. */
const TREE = [
  "(",
  String.raw`    "\x01\x02\x03"`,
  "    @4096",
  String.raw`    "text\x01\xff"`,
  "    fill(255*512)",
  String.raw`    "\x01\x02\x01\x02\x01\x02"`,
  "    @^16",
  "    0",
  "    @4",
  "    1",
  "    @-2",
  "    2",
  "    (",
  "        5",
  String.raw`    ) -> \a`,
  String.raw`    \a`,
  "    1",
  "    (",
  "        @1",
  "        7",
  "        (",
  "            @1",
  "            8",
  "        )",
  "    )",
  ")",
];

describe.each(servers)("debug flags of the built-in plugins ($name)", (server) => {
  test("-D data.AST=1 prints the optimized expression tree, line for line", async () => {
    const argv = ["data", EXPRESSION];
    const options = { serverOptions: ["-v", "-D", "data.AST=1"] };
    const { stderr } = expectSuccess(await captive(server, argv, "true", options));
    const messages = logLines(stderr).map((line) => line.message);
    const begin = messages.indexOf("BEGIN AST (-D data.AST=1)");
    expect(begin).toBeGreaterThanOrEqual(0);
    expect(messages.slice(begin + 1, messages.indexOf("END AST"))).toEqual(TREE);
    expect(stderr).not.toMatch(/warning/);
  });

  test("without -v, -D data.AST=1 prints nothing", async () => {
    const options = { serverOptions: ["-D", "data.AST=1"] };
    const { stderr } = expectSuccess(await captive(server, ["data", EXPRESSION], "true", options));
    expect(stderr).toBe("");
  });

  test("-D example2.extra=1 logs the size example2 found", async (context) => {
    requireClients(context, "nbdinfo");
    const file = join(scratchDir(), "disk");
    writeFileSync(file, new Uint8Array(4096));
    const script = 'nbdinfo --size "$uri"';
    for (const flag of ["example2.extra=1", "example2.extra=0"]) {
      const options = { serverOptions: ["-v", "-D", flag] };
      const result = expectSuccess(
        await captive(server, ["example2", `file=${file}`], script, options),
      );
      expect(result.stdout).toBe("4096\n");
      const extra = logLines(result.stderr).filter((line) => line.message.startsWith("extra"));
      const expected = flag.endsWith("=1") ? ["extra debugging: statbuf.st_size = 4096"] : [];
      expect(extra.map((line) => line.message)).toEqual(expected);
      expect(result.stderr).not.toMatch(/warning/);
    }
  });
});
