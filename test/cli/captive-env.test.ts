import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { captiveEnvironment, captiveScript } from "../../src/cli/captive-env.ts";

// Expected values were printed by `set` inside nbdkit 1.32.5's --run.
describe("captiveEnvironment gives a --run command nbdkit's variables", () => {
  test("a Unix socket: port is empty, uri has no path for the empty export", () => {
    expect(captiveEnvironment({ unixSocket: "/tmp/nbdkit6tXkBU/socket" })).toEqual({
      uri: "nbd+unix://?socket=/tmp/nbdkit6tXkBU/socket",
      nbd: "nbd+unix://?socket=/tmp/nbdkit6tXkBU/socket",
      exportname: "",
      port: "",
      unixsocket: "/tmp/nbdkit6tXkBU/socket",
    });
  });

  test("TCP with -p and -e: unixsocket is empty", () => {
    expect(captiveEnvironment({ port: 10999, exportName: "foo" })).toEqual({
      uri: "nbd://localhost:10999/foo",
      nbd: "nbd://localhost:10999/foo",
      exportname: "foo",
      port: "10999",
      unixsocket: "",
    });
  });

  test("TCP without -p shows the default port", () => {
    expect(captiveEnvironment({})).toEqual({
      uri: "nbd://localhost:10809",
      nbd: "nbd://localhost:10809",
      exportname: "",
      port: "10809",
      unixsocket: "",
    });
  });

  test("$exportname and $unixsocket are raw; only $uri is percent-encoded", () => {
    const vars = captiveEnvironment({ unixSocket: "/tmp/my sock $x", exportName: "a b" });
    expect(vars).toMatchObject({
      uri: "nbd+unix:///a%20b?socket=/tmp/my%20sock%20%24x",
      exportname: "a b",
      unixsocket: "/tmp/my sock $x",
    });
  });

  test("$tls is set only when TLS is in force: 1 for on, 2 for require", () => {
    expect(captiveEnvironment({ tls: "off" })).not.toHaveProperty("tls");
    expect(captiveEnvironment({ tls: "on" }).tls).toBe("1");
    expect(captiveEnvironment({ tls: "require" })).toMatchObject({
      tls: "2",
      uri: "nbds://localhost:10809",
    });
  });
});

describe("captiveScript", () => {
  test("sets the variables in nbdkit's order, then the command verbatim", () => {
    const vars = captiveEnvironment({ unixSocket: "/tmp/s", exportName: "a b", tls: "on" });
    expect(captiveScript(vars, 'nbdinfo "$uri"')).toBe(
      [
        'uri="nbd+unix:///a%20b?socket=/tmp/s"',
        'nbd="$uri"',
        'exportname="a b"',
        "tls=1",
        "port=",
        "unixsocket=/tmp/s",
        'nbdinfo "$uri"',
      ].join("\n"),
    );
  });

  const SHOW =
    'set | grep -E "^(uri|nbd|unixsocket|port|exportname|tls)="; env | grep -c "^uri=" || true';
  const hasNbdkit = spawnSync("nbdkit", ["--version"]).status === 0;

  test.skipIf(!hasNbdkit)("the shell sees exactly what nbdkit's --run sees", () => {
    const dir = mkdtempSync(join(tmpdir(), "nbdts-captive-"));
    try {
      for (const [index, exportName] of ["", 'a b/ü?#%$`"x', "/x"].entries()) {
        const socket = join(dir, `s o$ck${index}`); // nbdkit leaves a socket it did not create
        const nbdkit = spawnSync(
          "nbdkit",
          ["-U", socket, "-e", exportName, "memory", "1M", "--run", SHOW],
          { encoding: "utf8" },
        );
        const ours = spawnSync(
          "sh",
          ["-c", captiveScript(captiveEnvironment({ unixSocket: socket, exportName }), SHOW)],
          { encoding: "utf8" },
        );
        expect(nbdkit.status, nbdkit.stderr).toBe(0);
        expect(ours.stdout).toBe(nbdkit.stdout);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
