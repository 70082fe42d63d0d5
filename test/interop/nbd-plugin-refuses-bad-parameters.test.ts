/**
 * The nbd plugin refuses what nbdkit's refuses, with nbdkit's words: no server named, two ways
 * named at once, port= without hostname=, dynamic-export= with export= or shared=, a bad URI.
 */

import { describe, expect, test } from "vitest";
import { runServer } from "../helpers/captive.ts";
import { servers } from "../helpers/servers.ts";

describe.each(servers)("nbd plugin ($name)", (server) => {
  test.each([
    [[], /exactly one of ‘socket’, ‘hostname’, ‘vsock’, ‘command’, ‘socket-fd’ and ‘uri’/],
    [["socket=/a", "hostname=b"], /cannot mix Unix ‘socket’, TCP ‘hostname’\/‘port’/],
    [["socket=/a", "port=1"], /‘port’ parameter should only be used with ‘hostname’ or ‘vsock’/],
    [["socket=/a", "export=x", "dynamic-export=true"], /cannot mix 'dynamic-export' with explicit/],
    [
      ["socket=/a", "shared=true", "dynamic-export=true"],
      /cannot use 'dynamic-export' with shared/,
    ],
    [["socket=/a", "nosuch=1"], /unknown parameter 'nosuch'/],
  ])("nbd %j fails at start-up", async (params, message) => {
    const result = await runServer(server, ["-U", "-", "nbd", ...params, "--run", "true"]);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(message);
  });
});
