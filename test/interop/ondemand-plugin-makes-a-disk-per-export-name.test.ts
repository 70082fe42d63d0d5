/**
 * The ondemand plugin (nbdkit-ondemand-plugin(1)): the first client to ask for an export name
 * gets a new disk, DIR/NAME, made by mkfs (or `command=`); later clients, and later servers,
 * get that same disk. Export "" is DIR/default; NBD_OPT_LIST lists "" and the disks made; names
 * with ".", "/" or ":" are refused; a disk one client writes is locked against another (wait=true
 * makes the other wait instead).
 */

import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { startServer } from "../helpers/background.ts";
import { captive, expectSuccess, run, scratchDir } from "../helpers/captive.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";

const TRUNCATE = 'command=truncate -s $size "$disk"';

describe.each(servers)("the ondemand plugin makes a disk per export name ($name)", (server) => {
  test("a new name makes an ext4 disk; what a client writes is there for the next server", async (context) => {
    requireClients(context, "nbdsh", "mkfs.ext4");
    const dir = scratchDir();
    const first = await libnbd(
      server,
      ["ondemand", `dir=${dir}`, "8M"],
      `
      h = connect(export="disk1")
      h.pwrite(b"kept", 4 << 20)
      h.flush()
      report(size=h.get_size(), magic=bytes(h.pread(2, 1080)).hex())
    `,
    );
    expect(first).toEqual({ size: 8 << 20, magic: "53ef" });
    expect(readdirSync(dir)).toEqual(["disk1"]);
    const second = await libnbd(
      server,
      ["ondemand", `dir=${dir}`, "8M"],
      `h = connect(export="disk1")\nreport(back=bytes(h.pread(4, 4 << 20)).decode())`,
    );
    expect(second.back).toBe("kept");
  });

  test('"" is the disk "default"; the list gives "" and the disks, dot files left out', async (context) => {
    requireClients(context, "nbdinfo");
    const dir = scratchDir();
    for (const name of ["alpha", ".hidden", "with:colon"]) writeFileSync(join(dir, name), "");
    const { stdout } = expectSuccess(
      await captive(
        server,
        // wait=true: a server may still hold the first connection's lock when the next comes.
        ["ondemand", `dir=${dir}`, "1M", TRUNCATE, "wait=true"],
        'nbdinfo --size "$uri" && nbdinfo --list --json "$uri"',
      ),
    );
    const [size, ...json] = stdout.split("\n");
    expect(size).toBe("1048576");
    const names = (JSON.parse(json.join("\n")) as { exports: { "export-name": string }[] }).exports
      .map((e) => e["export-name"]).sort();
    // nbdinfo shows "" by the canonical name the server gives it.
    expect(names).toEqual(["alpha", "default"]);
    expect(readdirSync(dir).sort()).toEqual([".hidden", "alpha", "default", "with:colon"]);
  });

  test("names with '.', '/' or ':' are refused", async (context) => {
    requireClients(context, "nbdsh");
    const dir = scratchDir();
    const result = await libnbd(
      server,
      ["ondemand", `dir=${dir}`, "1M", TRUNCATE],
      `report(results=[outcome(lambda: connect(export=n)) for n in ["a.b", "a:b", "../x", "ok"]])`,
    );
    // A refused open is NBD_REP_ERR_UNKNOWN to NBD_OPT_GO: libnbd says ENOENT.
    expect(result.results).toEqual(["ENOENT", "ENOENT", "ENOENT", "ok"]);
    expect(readdirSync(dir)).toEqual(["ok"]);
  });

  test("a disk in use is locked against a second writer; wait=true makes it wait", async (context) => {
    requireClients(context, "nbdsh");
    const dir = scratchDir();
    const locked = await libnbd(
      server,
      ["ondemand", `dir=${dir}`, "1M", TRUNCATE],
      `
      a = connect(export="shared")
      second = outcome(lambda: connect(export="shared"))
      a.shutdown()
      report(second=second, other=outcome(lambda: connect(export="other")))
    `,
    );
    expect(locked).toEqual({ second: "ENOENT", other: "ok" });
    const background = await startServer(server, [
      "ondemand",
      `dir=${dir}`,
      "1M",
      TRUNCATE,
      "wait=true",
    ]);
    const uri = `nbd+unix:///shared?socket=${background.socket}`;
    // The holder says when it is connected (a file), then keeps the disk for 1.5 s.
    const marker = join(dir, ".connected");
    const holder = run([
      "nbdsh",
      "-u",
      uri,
      "-c",
      `import time; open("${marker}", "w").close(); time.sleep(1.5)`,
    ]);
    while (!existsSync(marker)) await new Promise((resolve) => setTimeout(resolve, 20));
    const started = Date.now();
    expectSuccess(await run(["nbdinfo", "--size", uri]));
    expect(Date.now() - started).toBeGreaterThan(1000);
    expectSuccess(await holder);
  });

  test("dir and size are required", async () => {
    const result = await captive(server, ["ondemand", "1M"], "true");
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/error: dir and size parameters are required/);
  });
});
