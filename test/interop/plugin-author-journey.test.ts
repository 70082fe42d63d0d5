/**
 * A plugin author's first hour, played out: nbdts packed as npm publishes it, installed into a
 * fresh folder outside the checkout (`npm init -y`, then `npm install nbdts-0.1.0.tgz`), and
 * three plugins written there that import from "nbdts" — TypeScript, an ES-module .js and a
 * CommonJS .js — each served by the installed package under each runtime, with the commands the
 * README gives (`npx nbdts`, `deno run -A npm:nbdts`, `bunx --bun nbdts`), to nbdsh, which
 * writes, reads back and hits the plugin's NbdError. nbdkit cannot load JavaScript plugins, so it
 * is not among the servers here; what these plugins do on the wire, the other tests prove
 * against nbdkit too.
 */

import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { expectSuccess, run } from "../helpers/captive.ts";
import { installPackedNbdts } from "../helpers/packed-nbdts.ts";
import { REPO_ROOT, requireClients, type Server, servers } from "../helpers/servers.ts";

/** How an author starts the installed package on each runtime, from the plugin's folder. */
function installedCommand(server: Server, project: string): string[] {
  const [program] = server.argv;
  if (server.name === "nbdts-deno") return [program, "run", "-A", "--quiet", "npm:nbdts"];
  if (server.name === "nbdts-bun") return [program, "x", "--bun", "nbdts"];
  return [join(project, "node_modules", ".bin", "nbdts")];
}

const ours = servers.filter((server) => server.name.startsWith("nbdts"));

// With NBD_SERVERS naming only nbdkit there is nothing to run: say so rather than fail empty.
if (ours.length === 0) test.skip("plugin author journey: no nbdts server is selected", () => {});

/** The body every plugin shares: a 1 MiB RAM disk whose last sector refuses writes. */
const DISK = `
  const disk = new Uint8Array(1024 * 1024);
  const last = disk.length - 512;
  const plugin = {
    name: "tiny",
    open: (readonly) => ({
      getSize: () => disk.length,
      readAt(buf, offset) {
        buf.set(disk.subarray(offset, offset + buf.length));
      },
      writeAt(buf, offset) {
        if (readonly || offset + buf.length > last) {
          throw new NbdError("EPERM", "the last sector is write-protected");
        }
        disk.set(buf, offset);
      },
    }),
  };`;

const PLUGINS: Record<string, string> = {
  "tiny.ts": `import { NbdError, type Plugin } from "nbdts";
${DISK}
export default plugin satisfies Plugin;
`,
  "esm/plugin.js": `import { NbdError } from "nbdts";
${DISK}
export default plugin;
`,
  "cjs-plugin.js": `const { NbdError } = require("nbdts");
${DISK}
module.exports = plugin;
`,
};

/** nbdsh: write and read back, read the size, then a write the plugin refuses with EPERM. */
const CHECK = `
import errno
h.pwrite(b"hello", 4096)
assert h.pread(5, 4096) == b"hello"
print(h.get_size())
try:
    h.pwrite(b"x" * 512, 1048576 - 512)
    raise AssertionError("the write to the last sector succeeded")
except nbd.Error as error:
    assert error.errnum == errno.EPERM, error
print("refused")
`;

let project = "";

beforeAll(() => {
  project = installPackedNbdts();
  mkdirSync(join(project, "esm"));
  writeFileSync(join(project, "esm", "package.json"), '{ "type": "module" }\n');
  for (const [path, text] of Object.entries(PLUGINS)) writeFileSync(join(project, path), text);
  writeFileSync(join(project, "check.py"), CHECK);
}, 120_000);

// The folder holds the tarballs and esbuild's binary, some 25 MB: never left behind.
afterAll(() => rmSync(join(project, ".."), { recursive: true, force: true }));

describe.each(ours)("a plugin in a folder of its own, nbdts installed there ($name)", (server) => {
  test.for(Object.keys(PLUGINS))("%s is served to nbdsh", async (plugin, context) => {
    requireClients(context, "nbdsh");
    const argv = [...installedCommand(server, project), "-U", "-", `./${plugin}`];
    const script = `nbdsh -u "$uri" -c "exec(open('check.py').read())"`;
    const result = await run([...argv, "--run", script], { cwd: project });
    expect(expectSuccess(result).stdout).toBe("1048576\nrefused\n");
  });
});

describe.runIf(ours.some((server) => server.name === "nbdts-node"))("the installed command", () => {
  test("npx nbdts --version answers from the plugin's folder", async () => {
    const result = await run(["npx", "--offline", "nbdts", "--version"], { cwd: project });
    expect(expectSuccess(result).stdout).toBe("nbdts 0.1.0\n");
  });
});

const deno = ours.find((server) => server.name === "nbdts-deno");

describe.runIf(deno !== undefined)("Deno without npm", () => {
  test("a checkout's nbd.ts serves a plugin given an import map naming nbdts", async (context) => {
    requireClients(context, "nbdsh");
    const folder = join(project, "..", "deno-only");
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, "tiny.ts"), PLUGINS["tiny.ts"]);
    writeFileSync(join(folder, "check.py"), CHECK);
    const map = { imports: { nbdts: join(REPO_ROOT, "src", "mod.ts") } };
    writeFileSync(join(folder, "imports.json"), JSON.stringify(map));
    const nbdTs = join(REPO_ROOT, "nbd.ts");
    const argv = [deno!.argv[0], "run", "-A", "--quiet", "--import-map=imports.json", nbdTs];
    const script = `nbdsh -u "$uri" -c "exec(open('check.py').read())"`;
    const result = await run([...argv, "-U", "-", "./tiny.ts", "--run", script], { cwd: folder });
    expect(expectSuccess(result).stdout).toBe("1048576\nrefused\n");
  });
});
