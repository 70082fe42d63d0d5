/**
 * An author's mistakes are named as early as they can be, with where to look: a misspelt plugin
 * member when the plugin loads and a misspelt handle method at the first open (each once, with
 * the member meant), a name nbdkit would refuse (in nbdkit's words), an NbdError with an errno
 * that does not exist (where it is made, not as EINVAL on the wire), and a callback that throws
 * while an export opens (named, with its stack under -v). nbdkit's C plugins cannot make these
 * mistakes (its compiler catches them), so it is not among the servers here.
 */

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { captive, expectSuccess, runServer, scratchDir } from "../helpers/captive.ts";
import { REPO_ROOT, requireClients, servers } from "../helpers/servers.ts";

const ours = servers.filter((server) => server.name.startsWith("nbdts"));
if (ours.length === 0) test.skip("plugin mistakes: no nbdts server is selected", () => {});

const PLUGINS: Record<string, string> = {
  "typos.js": `export default {
  name: "typos",
  magicConfigkey: "size",
  open: () => ({
    getSize: () => 512,
    readAt(buf) { buf.fill(0); },
    writeat() {},
  }),
};
`,
  "underscore.js": `export default { name: "my_disk", open() {} };\n`,
  "errno.js": `import { NbdError } from "${join(REPO_ROOT, "build", "nbdts.js")}";
export default {
  name: "errno",
  open: () => ({
    getSize: () => 512,
    readAt() { throw new NbdError("ENOSPACE", "no room"); },
  }),
};
`,
  "size.js": `export default {
  name: "size",
  open: () => ({
    getSize() { throw new Error("disk offline"); },
    readAt() {},
  }),
};
`,
};

let dir = "";
beforeAll(() => {
  dir = scratchDir();
  for (const [name, text] of Object.entries(PLUGINS)) writeFileSync(join(dir, name), text);
});

describe.each(ours)("a plugin's mistakes are named when it loads ($name)", (server) => {
  test("misspelt members: the plugin's at load, the handle's once, at the first open", async (context) => {
    requireClients(context, "nbdinfo");
    const script = 'nbdinfo --size "$uri" && nbdinfo --can write "$uri"; echo "can write: $?"';
    const result = expectSuccess(await captive(server, [join(dir, "typos.js")], script));
    expect(result.stdout).toBe("512\ncan write: 2\n");
    const path = join(dir, "typos.js");
    expect(result.stderr.split("\n").filter((line) => line.includes("warning"))).toEqual([
      `nbdts: warning: ${path}: magicConfigkey: not a plugin member; did you mean magicConfigKey?`,
      `nbdts: warning: ${path}: writeat: not a handle method; did you mean writeAt?`,
    ]);
  });

  test("a name nbdkit refuses is refused in nbdkit's words", async () => {
    const result = await runServer(server, ["./underscore.js", "--dump-plugin"], { cwd: dir });
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
      "nbdts: ./underscore.js: plugin.name ('my_disk') field must contain only ASCII " +
        "alphanumeric or dash characters\n",
    );
  });

  test("an NbdError with an unknown errno fails where it is made, naming the errno meant", async (context) => {
    requireClients(context, "nbdsh");
    const script = `nbdsh -u "$uri" -c '
try:
    h.pread(512, 0)
except nbd.Error as e:
    print(e.errno)
'`;
    const result = expectSuccess(await captive(server, [join(dir, "errno.js")], script));
    expect(result.stdout).toBe("EIO\n");
    expect(result.stderr).toMatch(
      /error: errno: pread count=512 offset=0: Cannot create NbdError: unknown errno "ENOSPACE" \(did you mean ENOSPC\?\); use one of EPERM,/,
    );
  });

  test("a callback that throws while the export opens is named, its stack under -v", async (context) => {
    requireClients(context, "nbdinfo");
    for (const verbose of [false, true]) {
      const options = { serverOptions: verbose ? ["-v"] : [] };
      const result = await captive(
        server,
        [join(dir, "size.js")],
        'nbdinfo --size "$uri"',
        options,
      );
      expect(result.status).not.toBe(0);
      expect(result.stderr).toContain('error: open of export "": getSize() failed: disk offline');
      // The frame of the plugin's own getSize, at its line: V8 names it Object.getSize.
      expect(/\n\s+at .*getSize .*size\.js:4:\d+/.test(result.stderr)).toBe(verbose);
    }
  });
});
