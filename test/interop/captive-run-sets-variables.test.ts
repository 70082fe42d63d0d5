/**
 * Captive mode (--run): the server listens on a private socket, hands the command $uri,
 * $nbd, $unixsocket, $exportname and $port as shell variables, and exits with the command's
 * exit status.
 */

import { describe, expect, test } from "vitest";
import { captive, expectSuccess } from "../helpers/captive.ts";
import { type Server, servers } from "../helpers/servers.ts";

/** Runs `script` captive and returns its stdout lines as key=value pairs. */
async function variables(
  server: Server,
  script: string,
  serverOptions: string[] = [],
) {
  const { stdout } = expectSuccess(
    await captive(server, ["memory", "1M"], script, { serverOptions }),
  );
  return Object.fromEntries(
    stdout.trim().split("\n").map((
      line,
    ) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
  );
}

const PRINT_ALL = [
  'echo "uri=$uri"',
  'echo "nbd=$nbd"',
  'echo "unixsocket=$unixsocket"',
  'echo "exportname=$exportname"',
  'echo "port=$port"',
  'test -S "$unixsocket" && echo "socket=yes"',
].join("; ");

describe.each(servers)("captive --run sets variables ($name)", (server) => {
  test("the exit status of the command becomes the server's", async () => {
    expect((await captive(server, ["memory", "1M"], "true")).status).toBe(0);
    expect((await captive(server, ["memory", "1M"], "exit 7")).status).toBe(7);
    expect((await captive(server, ["memory", "1M"], "false")).status).toBe(1);
  });

  test("$uri names the private Unix socket and the default export", async () => {
    const vars = await variables(server, PRINT_ALL);
    expect(vars.uri).toBe(`nbd+unix://?socket=${vars.unixsocket}`);
    expect(vars.nbd).toBe(vars.uri);
    expect(vars.unixsocket).toMatch(/^\/.+/);
    expect(vars.exportname).toBe("");
    expect(vars.port).toBe("");
    expect(vars.socket).toBe("yes");
  });

  test("-e puts the export name in $uri's path and in $exportname", async () => {
    const vars = await variables(server, PRINT_ALL, ["-e", "foo"]);
    expect(vars.uri).toBe(`nbd+unix:///foo?socket=${vars.unixsocket}`);
    expect(vars.exportname).toBe("foo");
  });

  test("an export name with a space is percent-encoded in $uri only", async () => {
    const vars = await variables(server, PRINT_ALL, ["-e", "a b/c"]);
    expect(vars.uri).toBe(`nbd+unix:///a%20b/c?socket=${vars.unixsocket}`);
    expect(vars.exportname).toBe("a b/c");
  });

  test("the variables are shell variables, not exported to child processes", async () => {
    const vars = await variables(
      server,
      'echo "exported=$(env | grep -c -E "^(uri|nbd|unixsocket)=")"',
    );
    expect(vars.exported).toBe("0");
  });

  test("the private socket is gone after the run", async () => {
    const vars = await variables(server, 'echo "unixsocket=$unixsocket"');
    const after = await captive(
      server,
      ["memory", "1M"],
      `test -e '${vars.unixsocket}' && echo exists || echo gone`,
    );
    expect(after.stdout.trim()).toBe("gone");
  });
});
