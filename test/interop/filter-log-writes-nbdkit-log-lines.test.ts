/**
 * --filter=log (man nbdkit-log-filter) logs the server's start, each client's options and
 * export, and every request with its reply, in nbdkit's exact format: the log file of the same
 * client session is the same, byte for byte, on every server once the timestamps (UTC, to the
 * microsecond) are set aside. Also: `logappend=`, a log script run with each entry as shell
 * variables, TLS and read-only connections, and a filter below the log failing requests.
 */

import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { captive, expectSuccess, scratchDir, shellQuote } from "../helpers/captive.ts";
import { filterHelp, refusedStart } from "../helpers/filters.ts";
import { libnbd } from "../helpers/libnbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";
import { makePki, type Pki } from "../helpers/tls-pki.ts";

const TIMESTAMP = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6} /;

/** The log file's lines, each with its timestamp checked and taken off. */
function logLines(file: string): string[] {
  return readFileSync(file, "utf8").split("\n").filter((line) => line !== "").map((line) => {
    expect(line).toMatch(TIMESTAMP);
    return line.replace(TIMESTAMP, "");
  });
}

/** What the log says of a memory disk of 1 MiB that can do everything. */
const CAN_ALL = "size=0x100000 minsize=0x0 prefsize=0x0 maxsize=0x0 write=1 flush=1 " +
  "rotational=0 trim=1 zero=2 fua=2 extents=1 cache=2 fast_zero=1";

/** One client of each kind a session has: a listing, and one doing every kind of request. */
const SESSION = `
def listing():
    h = nbd.NBD()
    h.set_opt_mode(True)
    h.connect_unix(unixsocket)
    h.opt_list(lambda name, desc: 0)
    h.opt_abort()

listing()
h = connect(lambda h: h.add_meta_context(nbd.CONTEXT_BASE_ALLOCATION))
h.pwrite(b"x" * 512, 0, nbd.CMD_FLAG_FUA)
h.pread(512, 0)
h.zero(4096, 8192, nbd.CMD_FLAG_FAST_ZERO)
h.zero(4096, 8192, nbd.CMD_FLAG_NO_HOLE)
h.cache(512, 0)
h.flush()
failed = outcome(lambda: h.trim(4096, 65536))
spans = extents(h, 65536, 0)
h.shutdown()
report(failed=failed, spans=spans)
`;

describe.each(servers)("log filter ($name)", (server) => {
  test("a session's log file is nbdkit's, timestamps aside", async (context) => {
    requireClients(context, "nbdsh");
    const log = join(scratchDir(), "log");
    const result = await libnbd(
      server,
      ["--filter=log", "--filter=error", "memory", "1M", `logfile=${log}`, "error-trim-rate=1"],
      SESSION,
    );
    expect(result).toEqual({ failed: "EIO", spans: [[32768, 0], [32768, 3]] });
    expect(logLines(log)).toEqual([
      "Ready thread_model=3",
      "Fork",
      "Preconnect id=1 readonly=0 ...",
      "...Preconnect id=1 return=0",
      "ListExports id=1 readonly=0 tls=0 ...",
      `...ListExports id=1 exports=("") return=0`,
      "Preconnect id=2 readonly=0 ...",
      "...Preconnect id=2 return=0",
      `connection=1 Connect export="" tls=0 ${CAN_ALL}`,
      "connection=1 Write id=1 offset=0x0 count=0x200 fua=1 ...",
      "connection=1 ...Write id=1 return=0",
      "connection=1 Read id=2 offset=0x0 count=0x200 ...",
      "connection=1 ...Read id=2 return=0",
      "connection=1 Zero id=3 offset=0x2000 count=0x1000 trim=1 fua=0 fast=1 ...",
      "connection=1 ...Zero id=3 return=0",
      "connection=1 Zero id=4 offset=0x2000 count=0x1000 trim=0 fua=0 fast=0 ...",
      "connection=1 ...Zero id=4 return=0",
      "connection=1 Cache id=5 offset=0x0 count=0x200 ...",
      "connection=1 ...Cache id=5 return=0",
      "connection=1 Flush id=6 ...",
      "connection=1 ...Flush id=6 return=0",
      "connection=1 Trim id=7 offset=0x10000 count=0x1000 fua=0 ...",
      "connection=1 ...Trim id=7 return=-1 error=EIO",
      "connection=1 Extents id=8 offset=0x0 count=0x10000 req_one=0 ...",
      `connection=1 ...Extents id=8 extents=(0x0 0x8000 "" 0x8000 0x8000 "hole,zero") return=0`,
      "connection=1 Disconnect transactions=8",
    ]);
  });

  test("placed before or after another filter, it shows the request before or after it", async (context) => {
    requireClients(context, "nbdsh");
    const dir = scratchDir();
    const requests = async (filters: string[], log: string) => {
      await libnbd(
        server,
        [...filters, "memory", "1M", `logfile=${log}`, "zeromode=emulate", "fuamode=emulate"],
        `
        h = connect()
        h.zero(4096, 0, nbd.CMD_FLAG_FUA)
        report(done=True)
      `,
      );
      return logLines(log).filter((line) => / (Zero|Write|Flush) /.test(line));
    };
    // Outermost, it sees the write of zeroes the server makes at the top (an emulated zero is
    // written by the outermost layer, as nbdkit's backend_zero does) with FUA as the client
    // sent it; innermost, what the fua filter makes of that: a write without FUA, then a flush.
    expect(await requests(["--filter=log", "--filter=nozero", "--filter=fua"], join(dir, "a")))
      .toEqual([
        "connection=1 Write id=1 offset=0x0 count=0x1000 fua=1 ...",
      ]);
    expect(await requests(["--filter=nozero", "--filter=fua", "--filter=log"], join(dir, "b")))
      .toEqual([
        "connection=1 Write id=1 offset=0x0 count=0x1000 fua=0 ...",
        "connection=1 Flush id=2 ...",
      ]);
  });

  test("logappend=true keeps what the file held; read-only connections say so", async (context) => {
    requireClients(context, "nbdinfo");
    const log = join(scratchDir(), "log");
    writeFileSync(log, "earlier line\n");
    expectSuccess(
      await captive(
        server,
        ["--filter=log", "memory", "1M", `logfile=${log}`, "logappend=true"],
        'nbdinfo --size "$uri" >/dev/null',
        { serverOptions: ["-r"] },
      ),
    );
    const lines = readFileSync(log, "utf8").split("\n");
    expect(lines[0]).toBe("earlier line");
    expect(lines.slice(1).filter((line) => line !== "").map((line) => line.replace(TIMESTAMP, "")))
      .toEqual([
        "Ready thread_model=3",
        "Fork",
        "Preconnect id=1 readonly=1 ...",
        "...Preconnect id=1 return=0",
        'connection=1 Connect export="" tls=0 size=0x100000 minsize=0x0 prefsize=0x0 ' +
        "maxsize=0x0 write=0 flush=1 rotational=0 trim=0 zero=0 fua=0 extents=1 cache=2 " +
        "fast_zero=0",
        "connection=1 Disconnect transactions=0",
      ]);
  });

  test("a log script runs for each entry with its fields as shell variables", async (context) => {
    requireClients(context, "nbdsh");
    const out = join(scratchDir(), "script-out");
    const script = `echo "$type $act \${connection:--} \${id:--} \${offset:--} \${count:--} ` +
      `\${return:--} \${error:--}" >> ${shellQuote(out)}`;
    const result = await libnbd(
      server,
      [
        "--filter=log",
        "--filter=error",
        "memory",
        "1M",
        `logscript=${script}`,
        "error-pread-rate=1",
      ],
      `
      import time
      out = ${JSON.stringify(out)}
      h = connect()
      h.pwrite(b"a" * 512, 1024)
      read = outcome(lambda: h.pread(512, 1024))
      h.shutdown()
      for _ in range(400):  # until every entry's script has run
          if os.path.exists(out) and len(open(out).readlines()) >= 10:
              break
          time.sleep(0.05)
      report(read=read)
    `,
    );
    expect(result).toEqual({ read: "EIO" });
    // Neither server waits for its scripts, so they finish in no fixed order: compared sorted,
    // once the last has had time to run.
    expect(readFileSync(out, "utf8").split("\n").filter((line) => line !== "").sort()).toEqual([
      "PRINT Ready - - - - - -",
      "PRINT Fork - - - - - -",
      "ENTER Preconnect - 1 - - - -",
      "LEAVE Preconnect - 1 - - 0 -",
      "PRINT Connect 1 - - - - -",
      "ENTER Write 1 1 0x400 0x200 - -",
      "LEAVE Write 1 1 - - 0 -",
      "ENTER Read 1 2 0x400 0x200 - -",
      "LEAVE Read 1 2 - - -1 EIO",
      "PRINT Disconnect 1 - - - - -",
    ].sort());
  });

  test("bad settings are refused, and --help shows nbdkit's parameters", async () => {
    expect(await refusedStart(server, ["--filter=log", "null", "logappend=x"])).toContain(
      "could not decipher boolean (x)",
    );
    expect(
      await refusedStart(server, ["--filter=log", "null", "logfile=/nonexistent/dir/log"]),
    ).toContain("open: /nonexistent/dir/log: No such file or directory");
    expect(await filterHelp(server, "log")).toBe(
      "logfile=<FILE>               The file to place the log in.\n" +
        "logappend=<BOOL>             True to append to the log (default false).\n" +
        "logscript=<SCRIPT>           Script to run for logging.",
    );
  });
});

let pki: Pki;
beforeAll(() => void (pki = makePki()));
afterAll(() => pki.remove());

describe.each(servers)("log filter over TLS ($name)", (server) => {
  test("TLS clients are logged with tls=1", async (context) => {
    requireClients(context, "nbdsh", "certtool");
    const log = join(scratchDir(), "log");
    await libnbd(
      server,
      ["--filter=log", "memory", "1M", `logfile=${log}`],
      `
      h = connect_tls("tls-certificates=${pki.clientDir}")
      h.pread(512, 0)
      report(done=True)
    `,
      { serverOptions: ["--tls=require", `--tls-certificates=${pki.serverDir}`] },
    );
    expect(logLines(log).filter((line) => line.includes("tls="))).toEqual([
      `connection=1 Connect export="" tls=1 ${CAN_ALL}`,
    ]);
  });
});
