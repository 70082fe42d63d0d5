/**
 * --filter=delay (man nbdkit-delay-filter) makes each kind of request wait its delay before it
 * goes on: reads (`rdelay=`), writes, zeroes and trims (`wdelay=`, or each apart), extents and
 * cache, as well as opening an export and a client's goodbye. Checked as timing must be on a
 * shared machine: by lower bounds and by order (a delayed read finishes after a write sent
 * after it), never by upper bounds. `delay-fast-zero=false` fails fast zeroes at once instead,
 * and a request still waiting when the server stops fails, as nbdkit's does.
 */

import { describe, expect, test } from "vitest";
import { filterHelp, refusedStart, withFlags } from "../helpers/filters.ts";
import { join } from "node:path";
import { scratchDir } from "../helpers/captive.ts";
import { dedent, libnbd } from "../helpers/libnbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";

/** Python: `took(action)` is how long action() took, in milliseconds. */
const TIMING = `
import time

def took(action):
    start = time.monotonic()
    action()
    return (time.monotonic() - start) * 1000
`;

describe.each(servers)("delay filter ($name)", (server) => {
  test("each kind of request waits its own delay", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      [
        "--filter=delay",
        "memory",
        "1M",
        "rdelay=300ms",
        "wdelay=200ms",
        "delay-zero=400ms",
        "delay-extents=250ms",
        "delay-cache=350ms",
      ],
      TIMING + dedent(`
      h = connect(lambda h: h.add_meta_context(nbd.CONTEXT_BASE_ALLOCATION))
      report(read=took(lambda: h.pread(512, 0)),
             write=took(lambda: h.pwrite(b"a" * 512, 0)),
             trim=took(lambda: h.trim(512, 0)),
             zero=took(lambda: h.zero(512, 0)),
             extents=took(lambda: extents(h, 512, 0)),
             cache=took(lambda: h.cache(512, 0)))
    `),
    );
    expect(result.read).toBeGreaterThanOrEqual(300);
    expect(result.write).toBeGreaterThanOrEqual(200);
    expect(result.trim).toBeGreaterThanOrEqual(200);
    expect(result.zero).toBeGreaterThanOrEqual(400);
    expect(result.extents).toBeGreaterThanOrEqual(250);
    expect(result.cache).toBeGreaterThanOrEqual(350);
  });

  test("a delayed read finishes after an undelayed write sent after it", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["--filter=delay", "memory", "1M", "rdelay=1"],
      `
      h = connect()
      order = []
      def done(name):
          return lambda err: order.append(name) or 1
      h.aio_pread(nbd.Buffer(512), 0, completion=done("read"))
      h.aio_pwrite(nbd.Buffer.from_bytearray(bytearray(512)), 4096, completion=done("write"))
      while h.aio_in_flight() > 0:
          h.poll(-1)
      report(order=order)
    `,
    );
    expect(result).toEqual({ order: ["write", "read"] });
  });

  test("opening an export and a client's goodbye wait their delays", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["--filter=delay", "memory", "1M", "delay-open=300ms", "delay-close=400ms"],
      TIMING + dedent(`
      h = nbd.NBD()
      opened = took(lambda: h.connect_uri(uri))
      report(open=opened, close=took(lambda: h.shutdown()))
    `),
    );
    expect(result.open).toBeGreaterThanOrEqual(300);
    expect(result.close).toBeGreaterThanOrEqual(400);
  });

  test("delay-fast-zero=false fails fast zeroes at once and offers them", async (context) => {
    requireClients(context, "nbdsh");
    const result = await libnbd(
      server,
      ["--filter=delay", "full", "1M", "delay-zero=1", "delay-fast-zero=false"],
      withFlags(`
      h = connect()
      report(fast_zero=flags(h)["fast_zero"],
             outcome=outcome(lambda: h.zero(512, 0, nbd.CMD_FLAG_FAST_ZERO)))
    `),
    );
    expect(result).toEqual({ fast_zero: true, outcome: "ENOTSUP" });
  });

  test("a request still waiting when the server stops fails instead of waiting", async (context) => {
    requireClients(context, "nbdsh");
    // The server (its pid from -P: nbdkit serves in a child process under --run) is told to
    // stop while the read waits out its 60 s: the read fails rather than being served later.
    const pidFile = join(scratchDir(), "pid");
    const result = await libnbd(
      server,
      ["--filter=delay", "memory", "1M", "rdelay=60"],
      `
      import signal, threading
      h = connect()
      server = int(open(${JSON.stringify(pidFile)}).read())
      threading.Timer(0.5, lambda: os.kill(server, signal.SIGTERM)).start()
      report(read=outcome(lambda: h.pread(512, 0)))
    `,
      { timeoutMs: 45_000, serverOptions: ["-P", pidFile] },
    );
    expect(result.read).not.toBe("ok");
  });

  test("bad delays are refused with nbdkit's words, and --help shows its parameters", async () => {
    const refused = (param: string) => refusedStart(server, ["--filter=delay", "null", param]);
    expect(await refused("rdelay=x")).toContain("rdelay: empty string where we expected a number");
    expect(await refused("wdelay=5000000")).toContain(
      "seconds parameter wdelay is too large: 5000000",
    );
    expect(await refused("delay-open=xms")).toContain(
      "cannot parse delay-open in milliseconds parameter: xms",
    );
    expect(await refused("delay-fast-zero=x")).toContain("could not decipher boolean (x)");
    expect(await filterHelp(server, "delay")).toBe(
      "rdelay=<NN>[ms]                Read delay in seconds/milliseconds.\n" +
        "delay-read=<NN>[ms]            Read delay in seconds/milliseconds.\n" +
        "delay-write=<NN>[ms]           Write delay in seconds/milliseconds.\n" +
        "delay-zero=<NN>[ms]            Zero delay in seconds/milliseconds.\n" +
        "delay-trim=<NN>[ms]            Trim delay in seconds/milliseconds.\n" +
        "delay-extents=<NN>[ms]         Extents delay in seconds/milliseconds.\n" +
        "delay-cache=<NN>[ms]           Cache delay in seconds/milliseconds.\n" +
        "wdelay=<NN>[ms]                Write, zero and trim delay in secs/msecs.\n" +
        "delay-fast-zero=<BOOL>         Delay fast zero requests (default true).\n" +
        "delay-open=<NN>[ms]            Open delay in seconds/milliseconds.\n" +
        "delay-close=<NN>[ms]           Close delay in seconds/milliseconds.",
    );
  });
});
