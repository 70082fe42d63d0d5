/**
 * --filter=stats statslisten=…: the stats filter's counters, live over HTTP at /metrics, as
 * Prometheus scrapes them. A libnbd client does a known set of requests while the test (and the
 * client itself, mid-session) scrapes; Prometheus's own parsers (its Python client's, for the
 * text format and OpenMetrics) and `promtool check metrics` read what came back, and the counts
 * must be what the client did, matching the stats file nbdkit's format writes at exit. Bad
 * requests get 404 and 405, scrapers hammering the endpoint leave NBD serving intact, and a Unix
 * socket works as well as a port.
 *
 * nbdkit has no live metrics (its stats filter only writes the file at exit, and refuses
 * statslisten= as an unknown parameter): these tests run against nbdts alone.
 */

import { readFileSync, writeFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { createServer as createNetServer } from "node:net";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { startServer } from "../helpers/background.ts";
import { expectSuccess, run, scratchDir } from "../helpers/captive.ts";
import { filterHelp, refusedStart } from "../helpers/filters.ts";
import { listeningPorts } from "../helpers/listening-port.ts";
import {
  type MetricFamily,
  parseMetrics,
  promtoolCheck,
  requirePrometheusTools,
  sampleValue,
} from "../helpers/prometheus.ts";
import { requireClients, type Server, servers } from "../helpers/servers.ts";

const ours = servers.filter((server) => server.name.startsWith("nbdts"));

const OPS = ["read", "write", "trim", "zero", "extents", "cache", "flush"];
const OPENMETRICS = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5";

/** Starts `--filter=stats [filters] memory 4M statslisten=0 …`; answers it and its metrics URL. */
async function startWithMetrics(server: Server, filters: string[], params: string[]) {
  const started = await startServer(server, [
    "--filter=stats",
    ...filters,
    "memory",
    "4M",
    "statslisten=0", // 127.0.0.1, on a port the kernel picks: NBD is on a Unix socket
    ...params,
  ]);
  const port = listeningPorts(started.pid).ipv4;
  if (port === undefined) throw new Error(`No metrics port found:\n${started.stderr()}`);
  return { started, url: `http://127.0.0.1:${port}/metrics` };
}

/** Runs a Python libnbd script against `uri`, with $METRICS set; returns what it printed. */
async function python(script: string, uri: string, metrics: string): Promise<string> {
  const file = join(scratchDir(), "client.py");
  writeFileSync(file, script);
  const result = await run(["python3", file], { env: { uri, METRICS: metrics } });
  return expectSuccess(result).stdout;
}

/** A session whose every request is known, scraping twice before it disconnects. */
const SESSION = `
import json, os, urllib.request
import nbd

def scrape(accept=None):
    headers = {} if accept is None else {"Accept": accept}
    request = urllib.request.Request(os.environ["METRICS"], headers=headers)
    with urllib.request.urlopen(request) as response:
        return [response.headers["Content-Type"], response.read().decode()]

h = nbd.NBD()
h.add_meta_context(nbd.CONTEXT_BASE_ALLOCATION)
h.connect_uri(os.environ["uri"])
for offset in range(0, 5 * 4096, 4096):
    h.pread(4096, offset)
for offset in (0, 1024, 2048):
    h.pwrite(b"x" * 1024, offset)
h.trim(4096, 65536)
h.flush()
h.flush()
h.cache(8192, 0)
h.block_status(65536, 0, lambda *args: 0)
failed = 0
for _ in range(2):
    try:
        h.zero(4096, 0)
    except nbd.Error:
        failed += 1
print(json.dumps(dict(failed=failed, text=scrape(), openmetrics=scrape("${OPENMETRICS}"))))
h.shutdown()
`;

/** What the session did: requests that succeeded, those that failed, and their bytes. */
const DONE = { read: 5, write: 3, trim: 1, zero: 0, extents: 1, cache: 1, flush: 2 };
const FAILED = { read: 0, write: 0, trim: 0, zero: 2, extents: 0, cache: 0, flush: 0 };
const BYTES = {
  read: 20480,
  write: 3072,
  trim: 4096,
  zero: 0,
  extents: 65536,
  cache: 8192,
  flush: 0,
};

/** Every per-operation counter and histogram of a scrape, by op. */
function perOp(families: readonly MetricFamily[], name: string): Record<string, number> {
  return Object.fromEntries(OPS.map((op) => [op, sampleValue(families, name, { op })]));
}

/**
 * Each op's latency histogram is whole: buckets cumulative (never fewer at a larger bound),
 * ending at +Inf with _count, which equals the requests that succeeded; the sum is not negative.
 */
function expectHistograms(families: readonly MetricFamily[], requests: Record<string, number>) {
  const duration = families.find((family) => family.name === "nbdts_request_duration_seconds");
  expect(duration?.type).toBe("histogram");
  for (const op of OPS) {
    const buckets = duration!.samples.filter((sample) =>
      sample.name === "nbdts_request_duration_seconds_bucket" && sample.labels.op === op
    );
    const bounds = buckets.map((bucket) => Number(bucket.labels.le.replace("+Inf", "Infinity")));
    expect(bounds.at(-1)).toBe(Infinity);
    expect(bounds).toEqual([...bounds].sort((a, b) => a - b));
    const counts = buckets.map((bucket) => bucket.value);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    const count = sampleValue(families, "nbdts_request_duration_seconds_count", { op });
    expect([counts.at(-1), count]).toEqual([requests[op], requests[op]]);
    expect(sampleValue(families, "nbdts_request_duration_seconds_sum", { op }))
      .toBeGreaterThanOrEqual(0);
  }
}

/** GET (or another method) on the metrics port: status, headers and body. */
async function fetchText(url: string, init: RequestInit = {}) {
  const response = await fetch(url, init);
  return { status: response.status, headers: response.headers, body: await response.text() };
}

// With NBD_SERVERS naming only nbdkit there is nothing to run: say so rather than fail empty.
if (ours.length === 0) {
  test.skip("stats filter statslisten=: no nbdts server is selected", () => {});
}

describe.each(ours)("stats filter's live metrics ($name)", (server) => {
  test("a scrape counts what the client did, in formats Prometheus's parsers and promtool accept", async (context) => {
    requireClients(context, "nbdsh");
    requirePrometheusTools(context);
    const statsfile = join(scratchDir(), "stats");
    const { started, url } = await startWithMetrics(
      server,
      ["--filter=error"],
      [`statsfile=${statsfile}`, "error-zero-rate=1"],
    );

    const before = await fetchText(url);
    expect(before.status).toBe(200);
    expect(before.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const idle = await parseMetrics(before.body, "text");
    expect(Object.values(perOp(idle, "nbdts_requests_total"))).toEqual(OPS.map(() => 0));
    expect(sampleValue(idle, "nbdts_connections_total")).toBe(0);

    const session = JSON.parse(await python(SESSION, started.uri, url));
    expect(session.failed).toBe(2);
    const [textType, text] = session.text;
    expect(textType).toBe("text/plain; version=0.0.4; charset=utf-8");
    const lint = await promtoolCheck(text);
    expect([lint.status, lint.stdout + lint.stderr]).toEqual([0, ""]);
    const [openMetricsType, openMetrics] = session.openmetrics;
    expect(openMetricsType).toBe("application/openmetrics-text; version=1.0.0; charset=utf-8");

    for (
      const during of [
        await parseMetrics(text, "text"),
        await parseMetrics(openMetrics, "openmetrics"),
      ]
    ) {
      expect(perOp(during, "nbdts_requests_total")).toEqual(DONE);
      expect(perOp(during, "nbdts_request_errors_total")).toEqual(FAILED);
      expect(perOp(during, "nbdts_request_bytes_total")).toEqual(BYTES);
      expectHistograms(during, DONE);
      expect(sampleValue(during, "nbdts_connections_total")).toBe(1);
      expect(sampleValue(during, "nbdts_connections_active")).toBe(1);
    }

    const after = await parseMetrics((await fetchText(url)).body, "text");
    expect(perOp(after, "nbdts_requests_total")).toEqual(DONE);
    expect(sampleValue(after, "nbdts_connections_total")).toBe(1);
    expect(sampleValue(after, "nbdts_connections_active")).toBe(0);

    // The report nbdkit's format writes at exit counts the same requests.
    expect((await started.stop()).status).toBe(0);
    const report = readFileSync(statsfile, "utf8");
    for (const [op, ops] of Object.entries(DONE)) {
      if (ops > 0) expect(report).toContain(`\n${op}: ${ops} ops,`);
    }
  });

  test("other paths get 404, other methods 405, HEAD the headers alone; NBD goes on", async (context) => {
    requireClients(context, "nbdinfo");
    const { started, url } = await startWithMetrics(server, [], []);
    const origin = url.replace("/metrics", "");
    for (const path of ["/", "/metrics/", "/favicon.ico"]) {
      expect((await fetchText(origin + path)).status).toBe(404);
    }
    for (const method of ["POST", "PUT", "DELETE"]) {
      const refused = await fetchText(url, { method, body: method === "DELETE" ? undefined : "x" });
      expect(refused.status).toBe(405);
      expect(refused.headers.get("allow")).toBe("GET, HEAD");
    }
    const head = await fetchText(url, { method: "HEAD" });
    expect([head.status, head.body]).toEqual([200, ""]);
    expect((await fetchText(`${url}?query=ignored`)).body).toContain(
      "# TYPE nbdts_requests_total counter",
    );
    const size = await run(["nbdinfo", "--size", started.uri]);
    expect(expectSuccess(size).stdout.trim()).toBe(String(4 * 1024 * 1024));
  });

  test("scrapers hammering /metrics leave NBD serving intact, and the counts exact", async (context) => {
    requireClients(context, "nbdsh");
    requirePrometheusTools(context);
    const { started, url } = await startWithMetrics(server, [], []);
    // 1000 blocks written with their own bytes, then read back and checked.
    const workload = `
import os
import nbd
h = nbd.NBD()
h.connect_uri(os.environ["uri"])
for block in range(1000):
    h.pwrite(bytes([block % 251]) * 4096, block * 4096)
for block in range(1000):
    assert h.pread(4096, block * 4096) == bytes([block % 251]) * 4096, block
print("checked")
h.shutdown()
`;
    let running = true;
    let scrapes = 0;
    const statuses = new Set<number>();
    const scraper = async () => {
      while (running && scrapes < 50_000) {
        const scraped = await fetchText(url);
        statuses.add(scraped.status);
        scrapes++;
      }
    };
    const scrapers = Promise.all([1, 2, 3, 4].map(scraper));
    const checked = await python(workload, started.uri, url).finally(() => (running = false));
    await scrapers;
    expect(checked.trim()).toBe("checked");
    expect([...statuses]).toEqual([200]);
    expect(scrapes).toBeGreaterThan(0);
    const final = await parseMetrics((await fetchText(url)).body, "text");
    expect(perOp(final, "nbdts_requests_total")).toMatchObject({ read: 1000, write: 1000 });
    expect(perOp(final, "nbdts_request_bytes_total")).toMatchObject({
      read: 1000 * 4096,
      write: 1000 * 4096,
    });
    expect(Object.values(perOp(final, "nbdts_request_errors_total"))).toEqual(OPS.map(() => 0));
  });

  test("statslisten=PATH serves the metrics on a Unix socket, removed at exit", async (context) => {
    requireClients(context, "nbdinfo");
    const socket = join(scratchDir(), "metrics.sock");
    const started = await startServer(server, [
      "--filter=stats",
      "memory",
      "1M",
      `statslisten=${socket}`,
    ]);
    expectSuccess(await run(["nbdinfo", "--size", started.uri]));
    const scraped = await new Promise<{ status?: number; body: string }>((resolve, reject) => {
      httpRequest({ socketPath: socket, path: "/metrics" }, (response) => {
        let body = "";
        response.setEncoding("utf8").on("data", (text) => (body += text));
        response.on("end", () => resolve({ status: response.statusCode, body }));
      }).on("error", reject).end();
    });
    expect(scraped.status).toBe(200);
    expect(scraped.body).toContain("nbdts_connections_total 1\n");
    expect((await started.stop()).status).toBe(0);
    expect(() => readFileSync(socket)).toThrow(/ENOENT/);
  });

  test("statslisten= is in --help; a bad address or a port in use stops the start with one line", async () => {
    expect(await filterHelp(server, "stats")).toContain(
      "statslisten=<ADDR>  Serve live metrics over HTTP at [HOST:]PORT or a socket path.",
    );
    expect(await refusedStart(server, ["--filter=stats", "null", "statslisten=nonsense"]))
      .toContain(
        "statslisten: cannot parse 'nonsense': expected [HOST:]PORT or a Unix socket path",
      );
    const taken = createNetServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const { port } = taken.address() as { port: number };
    try {
      const stderr = await refusedStart(server, ["--filter=stats", "null", `statslisten=${port}`]);
      expect(stderr).toContain(`statslisten: cannot listen on http://127.0.0.1:${port}: `);
      expect(stderr.trim().split("\n")).toHaveLength(1);
    } finally {
      taken.close();
    }
  });
});
