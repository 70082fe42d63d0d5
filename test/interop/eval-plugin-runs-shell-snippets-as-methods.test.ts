/**
 * The eval plugin (nbdkit-eval-plugin(1); the shapes of nbdkit's tests/test-eval.sh,
 * test-eval-file.sh, test-eval-cache.sh and test-eval-dump-plugin.sh): each method is a shell
 * snippet given on the command line, run as the sh plugin runs its script; `missing=` runs for
 * every method not given (`exit 2` by default); a key that names no method goes to the config
 * snippet; a can_* left out answers yes when its method was given, unlike sh.
 */

import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { captive, expectSuccess, runServer, scratchDir } from "../helpers/captive.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { readOnlyQuestions, UNTIL_OPEN } from "../helpers/scripts.ts";
import { requireClients, servers } from "../helpers/servers.ts";

const ZEROES = "pread=dd if=/dev/zero count=$3 iflag=count_bytes status=none";

describe.each(servers)("the eval plugin runs shell snippets as methods ($name)", (server) => {
  test("missing= runs for every method not given, in nbdkit's order", async (context) => {
    requireClients(context, "nbdinfo");
    const log = join(scratchDir(), "missing.log");
    const { stdout } = expectSuccess(
      await captive(
        server,
        [
          "eval",
          "get_size=echo 64M",
          ZEROES,
          `missing=echo "$@" >> '${log}'; exit 2`,
          "unload=",
        ],
        'nbdinfo "$uri"',
      ),
    );
    expect(stdout).toMatch(/export-size: 67108864 /);
    // get_size is given, so the missing script never sees it.
    const opened = ["open false  false", "can_write ", ...readOnlyQuestions("")];
    expect(readFileSync(log, "utf8").replace(/\n$/, "").split("\n")).toEqual([
      ...UNTIL_OPEN,
      ...opened,
      "export_description ",
      "close ",
      ...opened,
      "export_description ",
      "close ",
    ]);
  });

  test("the man page's file plugin: config links the file, dd reads and writes it", async (context) => {
    requireClients(context, "nbdcopy");
    const dir = scratchDir();
    const disk = join(dir, "disk.img");
    const source = join(dir, "source.img");
    const data = randomBytes(1024 * 1024);
    writeFileSync(disk, new Uint8Array(data.length));
    writeFileSync(source, data);
    expectSuccess(
      await captive(
        server,
        [
          "eval",
          `config=ln -sf "$(realpath "$3")" $tmpdir/file`,
          "get_size=stat -Lc %s $tmpdir/file",
          "pread=dd if=$tmpdir/file skip=$4 count=$3 iflag=count_bytes,skip_bytes status=none",
          "pwrite=dd of=$tmpdir/file seek=$4 conv=notrunc oflag=seek_bytes status=none",
          `file=${disk}`,
        ],
        `nbdcopy '${source}' "$uri" && nbdcopy "$uri" - | cmp - '${source}'`,
      ),
    );
    expect(readFileSync(disk).equals(data)).toBe(true);
  });

  test("a method given answers its can_* yes; with only pread the disk is read-only", async (context) => {
    requireClients(context, "nbdsh");
    const report = (setup: string) => `
      h = connect(${setup})
      report(flags=[h.is_read_only(), h.can_flush(), h.can_trim(), h.can_zero(), h.can_cache(),
                    h.can_meta_context(nbd.CONTEXT_BASE_ALLOCATION)])
    `;
    const all = await libnbd(
      server,
      [
        "eval",
        "get_size=echo 1M",
        ZEROES,
        "pwrite=cat >/dev/null",
        "flush=exit 0",
        "trim=exit 0",
        "zero=exit 0",
        "extents=echo 0 1M hole,zero",
        "cache=exit 0",
      ],
      report("lambda h: h.add_meta_context(nbd.CONTEXT_BASE_ALLOCATION)"),
    );
    expect(all.flags).toEqual([false, true, true, true, true, true]);
    const bare = await libnbd(server, ["eval", "get_size=echo 1M", ZEROES], report(""));
    expect(bare.flags).toEqual([true, false, false, false, false, false]);
  });

  test("can_cache=emulate reads in place of caching; cache= alone makes can_cache native", async (context) => {
    requireClients(context, "nbdsh");
    const log = join(scratchDir(), "reads.log");
    const emulated = await libnbd(
      server,
      [
        "eval",
        "get_size=echo 4M",
        "can_cache=echo emulate",
        `pread=echo "$4 $3" >> '${log}'; dd if=/dev/zero count=$3 iflag=count_bytes status=none`,
      ],
      `
      h = connect()
      h.cache(4 * 1024 * 1024, 0)
      report(can_cache=h.can_cache())
    `,
    );
    expect(emulated.can_cache).toBe(true);
    // Whatever the pieces (nbdkit reads up to 64M at once, nbdts 1M), they cover the range.
    let covered = 0;
    for (
      const [offset, count] of readFileSync(log, "utf8").trim().split("\n").map((l) =>
        l.split(" ").map(Number)
      )
    ) {
      expect(offset).toBe(covered);
      covered += count;
    }
    expect(covered).toBe(4 * 1024 * 1024);
    const native = await libnbd(
      server,
      [
        "eval",
        "get_size=echo 1M",
        "cache=exit 0",
        "pread=echo EIO >&2; exit 1",
      ],
      `
      h = connect()
      h.cache(1024 * 1024, 0)
      report(can_cache=h.can_cache())
    `,
    );
    expect(native.can_cache).toBe(true);
  });

  test("unknown keys go to config=; without it, or defined twice, one line in nbdkit's words", async (context) => {
    requireClients(context, "nbdinfo");
    const configured = expectSuccess(
      await captive(
        server,
        ["eval", `config=echo "$3" > $tmpdir/$2`, "get_size=cat $tmpdir/size", ZEROES, "size=3M"],
        'nbdinfo --size "$uri"',
      ),
    );
    expect(configured.stdout.trim()).toBe(String(3 * 1024 * 1024));
    const unknown = await captive(server, ["eval", "get_size=echo 1M", "colour=blue"], "true");
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toMatch(
      /error: \/tmp\/[^ ]+\/missing: callback 'colour' is unknown, and there is no 'config' callback to handle it/,
    );
    const twice = await captive(server, ["eval", "get_size=echo 1M", "get_size=echo 2M"], "true");
    expect(twice.status).toBe(1);
    expect(twice.stderr).toMatch(
      /error: method get_size defined more than once on the command line/,
    );
  });

  test("--dump-plugin: max_known_status, then what dump_plugin prints", async () => {
    const plain = expectSuccess(await runServer(server, ["--dump-plugin", "eval"]));
    expect(plain.stdout).toMatch(/^max_known_status=3$/m);
    expect(plain.stdout).toMatch(/^thread_model=serialize_all_requests$/m);
    const extra = expectSuccess(
      await runServer(server, ["--dump-plugin", "eval", "dump_plugin=echo extra=stuff"]),
    );
    expect(extra.stdout).toMatch(/^extra=stuff$/m);
  });
});
