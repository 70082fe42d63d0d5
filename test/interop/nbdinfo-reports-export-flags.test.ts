/**
 * nbdinfo reports the size and the capability flags each plugin advertises, with and
 * without -r, in text, JSON and --can/--is form.
 */

import { describe, expect, test } from "vitest";
import { captive, expectSuccess } from "../helpers/captive.ts";
import { requireClients, type Server, servers } from "../helpers/servers.ts";

/** The export properties nbdinfo --json prints, minus the connection-specific ones. */
async function exportInfo(
  server: Server,
  plugin: string[],
  serverOptions: string[] = [],
) {
  const result = expectSuccess(
    await captive(server, plugin, 'nbdinfo --json "$uri"', { serverOptions }),
  );
  const info = JSON.parse(result.stdout) as {
    protocol: string;
    structured: boolean;
    exports: Record<string, unknown>[];
  };
  expect(info.exports).toHaveLength(1);
  const { uri: _uri, content: _content, ...properties } = info.exports[0]!;
  return { protocol: info.protocol, structured: info.structured, ...properties };
}

const WRITABLE = {
  is_read_only: false,
  is_rotational: false,
  can_cache: true,
  can_df: true,
  can_fast_zero: true,
  can_flush: true,
  can_fua: true,
  can_multi_conn: true,
  can_trim: true,
  can_zero: true,
};

describe.each(servers)("nbdinfo reports export flags ($name)", (server) => {
  test("a memory disk is writable with every optional command", async (context) => {
    requireClients(context, "nbdinfo");
    expect(await exportInfo(server, ["memory", "1M"])).toEqual({
      protocol: "newstyle-fixed",
      structured: true,
      "export-name": "",
      "export-size": 1048576,
      "export-size-str": "1M",
      contexts: ["base:allocation"],
      ...WRITABLE,
    });
  });

  test("a memory disk served with -r is read-only and drops trim, zero and FUA", async (context) => {
    requireClients(context, "nbdinfo");
    expect(await exportInfo(server, ["memory", "1M"], ["-r"])).toMatchObject({
      "export-size": 1048576,
      is_read_only: true,
      can_trim: false,
      can_zero: false,
      can_fast_zero: false,
      can_fua: false,
      can_flush: true,
      can_cache: true,
      can_multi_conn: true,
      can_df: true,
    });
  });

  test("a null disk advertises the same commands as a memory disk", async (context) => {
    requireClients(context, "nbdinfo");
    expect(await exportInfo(server, ["null", "2M"])).toMatchObject({
      "export-size": 2097152,
      ...WRITABLE,
    });
  });

  test("a pattern disk is read-only, cannot flush, and can cache", async (context) => {
    requireClients(context, "nbdinfo");
    expect(await exportInfo(server, ["pattern", "1M"])).toMatchObject({
      "export-size": 1048576,
      is_read_only: true,
      is_rotational: false,
      can_flush: false,
      can_fua: false,
      can_trim: false,
      can_zero: false,
      can_fast_zero: false,
      can_cache: true,
      can_multi_conn: true,
      can_df: true,
    });
  });

  test("the text output names the size and the flags", async (context) => {
    requireClients(context, "nbdinfo");
    const { stdout } = expectSuccess(await captive(server, ["memory", "1M"], 'nbdinfo "$uri"'));
    expect(stdout).toMatch(/protocol: newstyle-fixed/);
    expect(stdout).toMatch(/export-size: 1048576 \(1M\)/);
    expect(stdout).toMatch(/is_read_only: false/);
    expect(stdout).toMatch(/can_trim: true/);
  });

  test("--size prints the size alone", async (context) => {
    requireClients(context, "nbdinfo");
    const { stdout } = expectSuccess(
      await captive(server, ["memory", "3G"], 'nbdinfo --size "$uri"'),
    );
    expect(stdout.trim()).toBe(String(3 * 1024 ** 3));
  });

  test("--can and --is answer with exit status 0 for true and 2 for false", async (context) => {
    requireClients(context, "nbdinfo");
    const questions = [
      "--can connect",
      "--can read",
      "--can write",
      "--can trim",
      "--can zero",
      "--can fast-zero",
      "--can fua",
      "--can flush",
      "--can multi-conn",
      "--can cache",
      "--can df",
      "--can structured-reply",
      "--is read-only",
      "--is rotational",
      "--is tls",
    ];
    const script = questions.map((q) => `nbdinfo ${q} "$uri"; echo "${q}=$?"`).join("\n");
    const answers = (readOnly: boolean) =>
      captive(server, ["memory", "1M"], script, { serverOptions: readOnly ? ["-r"] : [] })
        .then(expectSuccess)
        .then(({ stdout }) =>
          Object.fromEntries(stdout.trim().split("\n").map((line) => line.split("=")))
        );
    expect(await answers(false)).toEqual({
      "--can connect": "0",
      "--can read": "0",
      "--can write": "0",
      "--can trim": "0",
      "--can zero": "0",
      "--can fast-zero": "0",
      "--can fua": "0",
      "--can flush": "0",
      "--can multi-conn": "0",
      "--can cache": "0",
      "--can df": "0",
      "--can structured-reply": "0",
      "--is read-only": "2",
      "--is rotational": "2",
      "--is tls": "2",
    });
    expect(await answers(true)).toMatchObject({
      "--can write": "2",
      "--can trim": "2",
      "--can zero": "2",
      "--can fua": "2",
      "--can flush": "0",
      "--is read-only": "0",
    });
  });
});
