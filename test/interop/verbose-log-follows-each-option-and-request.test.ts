/**
 * With -v the server logs what nbdkit logs, closely enough that one reader follows either: the
 * client's connection, each option and the reply it got, TLS being turned on, the export opened
 * with the flags computed for it, each request with its offset, count and flags, how the
 * connection ended and the export's close. Each test runs one client session and reads the
 * server's stderr with one parser (test/helpers/debug-log.ts) for every server, nbdkit
 * included, so the expected events below are nbdkit's own. The server runs in the background
 * and the log is read once its last line came: nbdkit may log a connection's close after the
 * client is gone, so a captive server could exit before writing it. nbdkit's -D nbdkit.backend.datapath=0
 * and -D nbdkit.backend.controlpath=0 take request and plugin-call lines out on every server,
 * and without -v there is no debug line at all.
 */

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { startServer } from "../helpers/background.ts";
import { captive, expectSuccess, run, scratchDir } from "../helpers/captive.ts";
import { logEvents, logLines } from "../helpers/debug-log.ts";
import { eventually } from "../helpers/fault-plugin.ts";
import { requireClients, type Server, servers } from "../helpers/servers.ts";
import { makePki, type Pki } from "../helpers/tls-pki.ts";

/** One libnbd connection sending every kind of request, then NBD_CMD_DISC. */
const REQUESTS = `
import sys, nbd
h = nbd.NBD()
h.add_meta_context(nbd.CONTEXT_BASE_ALLOCATION)
h.connect_uri(sys.argv[1])
h.pread(512, 0)
h.pwrite(b"x" * 512, 4096)
h.pwrite(b"y" * 512, 8192, nbd.CMD_FLAG_FUA)
h.flush()
h.trim(4096, 0)
h.zero(4096, 12288)
h.zero(4096, 16384, nbd.CMD_FLAG_NO_HOLE | nbd.CMD_FLAG_FAST_ZERO)
h.block_status(4096, 0, lambda *args: 0)
h.cache(512, 0)
h.shutdown()
`;

/**
 * Starts `server` with `options` on a memory disk, runs `client` (argv; "URI" in it stands for
 * the server's nbd+unix URI, "SOCKET" for its socket) and returns the events the server logged
 * once the last is `last` (or, failing that, after 10 s).
 */
async function session(
  server: Server,
  options: readonly string[],
  client: readonly string[],
  last: string,
): Promise<string[]> {
  const background = await startServer(server, ["memory", "1M"], { serverOptions: options });
  try {
    const argv = client.map((arg) =>
      arg.replace("URI", background.uri).replace("SOCKET", background.socket)
    );
    expectSuccess(await run(argv));
    await eventually(() => logEvents(background.stderr()).at(-1) === last);
    return logEvents(background.stderr());
  } finally {
    await background.stop("SIGKILL");
  }
}

/** The request session (REQUESTS) with the server given `options`. */
function requestSession(server: Server, options: readonly string[], last = "close") {
  const script = join(scratchDir(), "requests.py");
  writeFileSync(script, REQUESTS);
  return session(server, options, ["python3", script, "URI"], last);
}

/** What the options before GO log, and the export GO opens. */
const NEGOTIATION = [
  "connection",
  "option NBD_OPT_STRUCTURED_REPLY",
  "reply NBD_OPT_STRUCTURED_REPLY NBD_REP_ACK",
  "option NBD_OPT_SET_META_CONTEXT",
  "reply NBD_OPT_SET_META_CONTEXT NBD_REP_ACK",
  "option NBD_OPT_GO",
  'open "" readonly=0 tls=0',
  "export flags 0xded",
  "reply NBD_OPT_GO NBD_REP_ACK",
];

/** The requests REQUESTS sends, as nbdkit's backend names them. */
const REQUEST_EVENTS = [
  "pread count=512 offset=0",
  "pwrite count=512 offset=4096 fua=0",
  "pwrite count=512 offset=8192 fua=1",
  "flush",
  "trim count=4096 offset=0 fua=0",
  "zero count=4096 offset=12288 may_trim=1 fua=0 fast=0",
  "zero count=4096 offset=16384 may_trim=0 fua=0 fast=1",
  "extents count=4096 offset=0 req_one=0",
  "cache count=512 offset=0",
];

describe.each(servers)("-v log follows each option and request ($name)", (server) => {
  let pki: Pki;
  beforeAll(() => void (pki = makePki()));
  afterAll(() => pki.remove());

  test("each option, the export opened, each request and the disconnect are logged", async (context) => {
    requireClients(context, "python3");
    expect(await requestSession(server, ["-v"])).toEqual([
      ...NEGOTIATION,
      ...REQUEST_EVENTS,
      "NBD_CMD_DISC",
      "close",
    ]);
  });

  test("nbdinfo's INFO, LIST_META_CONTEXT and GO are each logged, INFO's export closed", async (context) => {
    requireClients(context, "nbdinfo");
    expect(await session(server, ["-v"], ["nbdinfo", "URI"], "close")).toEqual([
      "connection",
      "option NBD_OPT_STRUCTURED_REPLY",
      "reply NBD_OPT_STRUCTURED_REPLY NBD_REP_ACK",
      "option NBD_OPT_INFO",
      'open "" readonly=0 tls=0',
      "export flags 0xded",
      "reply NBD_OPT_INFO NBD_REP_ACK",
      "close",
      "option NBD_OPT_LIST_META_CONTEXT",
      "reply NBD_OPT_LIST_META_CONTEXT NBD_REP_ACK",
      "option NBD_OPT_GO",
      'open "" readonly=0 tls=0',
      "export flags 0xded",
      "reply NBD_OPT_GO NBD_REP_ACK",
      "pread count=8192 offset=0", // nbdinfo reads the first sectors to describe the content
      "NBD_CMD_DISC",
      "close",
    ]);
  });

  test("STARTTLS, the handshake and the options after it are logged with --tls=require", async (context) => {
    requireClients(context, "nbdinfo");
    const uri = `nbds+unix:///?socket=SOCKET&tls-certificates=${pki.clientDir}`;
    const options = ["-v", "--tls=require", `--tls-certificates=${pki.serverDir}`];
    const last = "reply NBD_OPT_ABORT NBD_REP_ACK";
    expect(await session(server, options, ["nbdinfo", "--list", uri], last)).toEqual([
      "connection",
      "option NBD_OPT_STARTTLS",
      "reply NBD_OPT_STARTTLS NBD_REP_ACK",
      "tls",
      "option NBD_OPT_STRUCTURED_REPLY",
      "reply NBD_OPT_STRUCTURED_REPLY NBD_REP_ACK",
      "option NBD_OPT_LIST",
      "reply NBD_OPT_LIST NBD_REP_ACK",
      "option NBD_OPT_INFO",
      'open "" readonly=0 tls=1',
      "export flags 0xded",
      "reply NBD_OPT_INFO NBD_REP_ACK",
      "close",
      "option NBD_OPT_LIST_META_CONTEXT",
      "reply NBD_OPT_LIST_META_CONTEXT NBD_REP_ACK",
      "option NBD_OPT_ABORT",
      "reply NBD_OPT_ABORT NBD_REP_ACK",
    ]);
  });

  test("-D nbdkit.backend.datapath=0 leaves out the requests, nothing else", async (context) => {
    requireClients(context, "python3");
    const events = await requestSession(server, ["-v", "-D", "nbdkit.backend.datapath=0"]);
    expect(events).toEqual([...NEGOTIATION, "NBD_CMD_DISC", "close"]);
  });

  test("-D nbdkit.backend.controlpath=0 leaves out the plugin's open and close", async (context) => {
    requireClients(context, "python3");
    const options = ["-v", "-D", "nbdkit.backend.controlpath=0"];
    const events = await requestSession(server, options, "NBD_CMD_DISC");
    const withoutControl = NEGOTIATION.filter((event) => !event.startsWith("open "));
    expect(events).toEqual([...withoutControl, ...REQUEST_EVENTS, "NBD_CMD_DISC"]);
  });

  test("without -v no debug line is printed", async (context) => {
    requireClients(context, "python3");
    const script = join(scratchDir(), "requests.py");
    writeFileSync(script, REQUESTS);
    const result = await captive(server, ["memory", "1M"], `python3 ${script} "$uri"`);
    const { stderr } = expectSuccess(result);
    expect(logLines(stderr).filter((line) => line.level === "debug")).toEqual([]);
  });
});
