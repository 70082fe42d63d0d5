/**
 * How the sh plugin is set up, as nbdkit's sh plugin is (nbdkit-sh-plugin(3); the shapes of
 * tests/test-sh-tmpdir-leak.sh, test-single-sh.sh and test-dump-plugin-thread-model.sh): the
 * script comes first, `-` reads it from stdin (refused with -s, whose stdin is the client), a
 * bare value goes to the key the script's magic_config_key prints, other parameters to its
 * config method; $tmpdir is a directory of the script's own, kept for the server's life and
 * removed when it exits, never the user's $tmpdir; thread_model sets the concurrency. Mistakes
 * are one line in nbdkit's words.
 */

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { captive, expectSuccess, runServer, scratchDir } from "../helpers/captive.ts";
import { writeScript } from "../helpers/scripts.ts";
import { requireClients, servers } from "../helpers/servers.ts";

const ZEROES = `case "$1" in
  get_size) echo 1M ;;
  pread) dd if=/dev/zero count=$3 iflag=count_bytes status=none ;;
  *) exit 2 ;;
esac
`;

/** The lines of `stderr` without the program's name ("nbdkit: ", "nbdts: sh: "). */
function errors(stderr: string): string[] {
  return stderr.split("\n").filter((line) => line.includes("error: ")).map((line) =>
    line.slice(line.indexOf("error: ") + 7)
  );
}

describe.each(servers)(
  "the sh plugin takes its script, parameters and $tmpdir as nbdkit does ($name)",
  (server) => {
    test("sh - reads the script from stdin, and it serves", async (context) => {
      requireClients(context, "nbdinfo");
      const { stdout } = expectSuccess(
        await captive(server, ["sh", "-"], 'nbdinfo --size "$uri"', { input: ZEROES }),
      );
      expect(stdout.trim()).toBe("1048576");
    });

    test("-s refuses sh -, and runs nothing; a script file serves on stdin", async (context) => {
      requireClients(context, "nbdsh");
      const dir = scratchDir();
      const ran = join(dir, "ran.log");
      const refused = await runServer(server, ["-s", "sh", "-"], {
        input: `echo "oops: $@" >> '${ran}'\n`,
      });
      expect(refused.status).toBe(1);
      expect(errors(refused.stderr)).toEqual(["inline script is incompatible with -s"]);
      expect(existsSync(ran)).toBe(false);
      const script = writeScript(ZEROES, dir);
      const argv = JSON.stringify([...server.argv, "-s", "sh", script]);
      const { stdout } = expectSuccess(
        await captive(
          server,
          ["sh", script],
          `nbdsh -c 'h.connect_command(${argv})' -c 'print(h.get_size(), h.pread(512, 0) == bytearray(512))'`,
        ),
      );
      expect(stdout.trim()).toBe("1048576 True");
    });

    test("$tmpdir is the script's own, lives as long as the server, and is gone after", async (context) => {
      requireClients(context, "nbdinfo");
      const dir = scratchDir();
      const seen = join(dir, "tmpdir");
      const script = writeScript(
        `case "$1" in
  get_ready) echo "$tmpdir" > '${seen}'; echo kept > "$tmpdir/state" ;;
  get_size) test "$(cat "$tmpdir/state")" = kept && echo 1M ;;
  pread) dd if=/dev/zero count=$3 iflag=count_bytes status=none ;;
  *) exit 2 ;;
esac
`,
        dir,
      );
      const result = expectSuccess(
        await captive(
          server,
          ["sh", script],
          'test "$tmpdir" = /nowhere && nbdinfo --size "$uri"',
          { env: { tmpdir: "/nowhere" } },
        ),
      );
      expect(result.stdout.trim()).toBe("1048576");
      const tmpdir = readFileSync(seen, "utf8").trim();
      expect(tmpdir).toMatch(/^\/tmp\/./);
      expect(existsSync(tmpdir)).toBe(false);
    });

    test("a bare value goes to magic_config_key's key; other parameters to config", async (context) => {
      requireClients(context, "nbdinfo");
      const dir = scratchDir();
      const disk = join(dir, "disk.img");
      writeFileSync(disk, new Uint8Array(12345));
      const script = writeScript(
        `case "$1" in
  magic_config_key) echo file ;;
  config)
    case "$2" in
      file) ln -s "$3" "$tmpdir/disk" ;;
      unit) echo "$3" > "$tmpdir/unit" ;;
      *) echo "EINVAL unknown parameter $2" >&2; exit 1 ;;
    esac ;;
  get_size) echo $(( $(stat -L -c %s "$tmpdir/disk") / $(cat "$tmpdir/unit") )) ;;
  pread) dd if=/dev/zero count=$3 iflag=count_bytes status=none ;;
  *) exit 2 ;;
esac
`,
        dir,
      );
      const { stdout } = expectSuccess(
        await captive(server, ["sh", script, disk, "unit=5"], 'nbdinfo --size "$uri"'),
      );
      expect(stdout.trim()).toBe("2469");
      const refused = await captive(server, ["sh", script, disk, "colour=blue"], "true");
      expect(refused.status).toBe(1);
      expect(errors(refused.stderr)).toEqual([`${script}: unknown parameter colour`]);
    });

    test("mistakes in the parameters are one line in nbdkit's words", async () => {
      const script = writeScript(ZEROES);
      const cases: [string[], string][] = [
        [["sh", "a=b"], "the first parameter must be script=/path/to/script"],
        [["sh"], "missing script parameter"],
        [["sh", script, "1G"], `${script}: expecting key=value on the command line but got: 1G`],
        [["sh", script, "a=b"], `${script}: this plugin does not need command line configuration`],
        [["sh", "/nonexistent/script"], "realpath: /nonexistent/script: No such file or directory"],
      ];
      for (const [args, message] of cases) {
        const result = await captive(server, args, "true");
        expect([args, result.status]).toEqual([args, 1]);
        expect(errors(result.stderr)).toEqual([message]);
      }
    });

    test("thread_model: parallel without a script, serialized when missing, else as printed", async () => {
      const model = async (args: string[]) => {
        const { stdout } = expectSuccess(await runServer(server, ["--dump-plugin", "sh", ...args]));
        return /^thread_model=(.*)$/m.exec(stdout)?.[1];
      };
      expect(await model([])).toBe("parallel");
      expect(await model([writeScript(ZEROES)])).toBe("serialize_all_requests");
      for (const printed of ["parallel", "serialize_connections", "SERIALIZE-REQUESTS"]) {
        const script = writeScript(
          `[ "$1" != thread_model ] || { echo ${printed}; exit 0; }\n${ZEROES}`,
        );
        expect(await model([script])).toBe(printed.toLowerCase().replace("-", "_"));
      }
      const odd = writeScript(`[ "$1" != thread_model ] || { echo sideways; exit 0; }\n${ZEROES}`);
      expect(await model([odd])).toBe("serialize_all_requests");
    });
  },
);
