/**
 * The sparse-random plugin reads its parameters as nbdkit 1.32's C code does, quirks included:
 * percent= as sscanf("%lf") reads it, runlength= as a plain unsigned number (no "16M", whatever
 * the manual says), seed= as a 32-bit unsigned number; bad values stop the server with nbdkit's
 * message.
 */

import { describe, expect, test } from "vitest";
import { captive, expectSuccess } from "../helpers/captive.ts";
import { requireClients, servers } from "../helpers/servers.ts";

/** Parameters that stop the server, and the message it gives. */
const REFUSED: readonly [string[], RegExp][] = [
  [["percent=101"], /cannot parse percent parameter: 101/],
  [["percent=abc"], /cannot parse percent parameter: abc/],
  [["runlength=1M"], /runlength: could not parse number: "1M": trailing garbage/],
  [["runlength=0"], /runlength parameter must be > 0/],
  [["runlength=-1"], /runlength: negative numbers are not allowed/],
  [
    ["seed=4294967296"],
    /seed: could not parse number: "4294967296": Numerical result out of range/,
  ],
  [["random-content=maybe"], /could not decipher boolean \(maybe\)/],
  [["colour=blue"], /unknown parameter 'colour'/],
];

describe.each(servers)("sparse-random plugin reads parameters as nbdkit ($name)", (server) => {
  test.each(REFUSED)("%j stops the server with nbdkit's message", async (params, message) => {
    const result = await captive(server, ["sparse-random", "1M", ...params], "true");
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(message);
  });

  test("percent= reads a C number prefix and runlength= a C integer in any base", async (context) => {
    requireClients(context, "nbdinfo");
    // Each quirky spelling draws the same disk as the plain one: "5x" is 5, "0x10" and
    // "0x1p4" are 16 (C's hexadecimal floating point), runlength "020000" is octal for 8192.
    const totals = async (params: string[]) => {
      const { stdout } = expectSuccess(
        await captive(
          server,
          ["sparse-random", "64M", "seed=3", "runlength=65536", ...params],
          'nbdinfo --map --totals "$uri"',
        ),
      );
      return stdout.trim().split("\n").map((line) => line.trim().split(/\s+/)[0]);
    };
    expect(await totals(["percent=5x"])).toEqual(await totals(["percent=5"]));
    expect(await totals(["percent=0x10"])).toEqual(await totals(["percent=16"]));
    expect(await totals(["percent=0x1p4"])).toEqual(await totals(["percent=16"]));
    expect(await totals(["runlength=020000"])).toEqual(await totals(["runlength=8192"]));
    // bytes of data and of holes, as nbdkit 1.32.5 draws percent=16
    expect(await totals(["percent=16"])).toEqual(["9547776", "57561088"]);
  });

  test("without a size the disk is empty", async (context) => {
    requireClients(context, "nbdinfo");
    const { stdout } = expectSuccess(
      await captive(server, ["sparse-random"], 'nbdinfo --size "$uri"'),
    );
    expect(stdout.trim()).toBe("0");
  });
});
