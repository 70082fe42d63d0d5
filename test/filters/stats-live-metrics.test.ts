/**
 * The stats filter's live metrics without a server: how stats-live.ts buckets request times,
 * the exposition text stats-exposition.ts writes from them, and how stats-endpoint.ts answers
 * each request and picks a format from the Accept header.
 */

import { describe, expect, test } from "vitest";
import { metricsEndpoint, prefersOpenMetrics } from "../../src/filters/stats-endpoint.ts";
import { exposition } from "../../src/filters/stats-exposition.ts";
import { LATENCY_BUCKETS, LiveStats } from "../../src/filters/stats-live.ts";
import type { HttpRequest } from "../../src/io.ts";

function get(path: string, accept?: string, method = "GET"): HttpRequest {
  return { method, path, header: (name) => (name === "accept" ? accept : undefined) };
}

describe("LiveStats", () => {
  test("a time on a bound counts in that bucket; past the last only in +Inf", () => {
    const live = new LiveStats(["read"]);
    live.succeeded(0, 512, 0.001); // exactly the 0.001 bound
    live.succeeded(0, 512, 0.0011);
    live.succeeded(0, 512, 60);
    const counts = live.cumulative(0);
    const at = (label: string) => counts[LATENCY_BUCKETS.findIndex(([, le]) => le === label)];
    expect([at("0.0005"), at("0.001"), at("0.0025"), at("10.0"), counts.at(-1)]).toEqual([
      0,
      1,
      2,
      2,
      3,
    ]);
    expect([live.requests[0], live.bytes[0], live.errors[0]]).toEqual([3, 1536, 0]);
    live.failed(0);
    expect([live.requests[0], live.errors[0]]).toEqual([3, 1]);
  });
});

describe("exposition", () => {
  const live = new LiveStats(["read", "flush"]);
  live.succeeded(0, 4096, 0.00002);
  live.succeeded(1, 0, 0.5);
  live.failed(1);
  live.connectionsOpened = 2;
  live.connectionsActive = 1;

  test("the text format: HELP and TYPE per family, counters named with _total", () => {
    const text = exposition(live, false);
    expect(text).toContain(
      "# HELP nbdts_requests_total Requests that succeeded, by operation.\n" +
        "# TYPE nbdts_requests_total counter\n" +
        'nbdts_requests_total{op="read"} 1\n' +
        'nbdts_requests_total{op="flush"} 1\n',
    );
    expect(text).toContain('nbdts_request_errors_total{op="flush"} 1\n');
    expect(text).toContain('nbdts_request_bytes_total{op="read"} 4096\n');
    expect(text).toContain(
      'nbdts_request_duration_seconds_bucket{op="read",le="1e-05"} 0\n' +
        'nbdts_request_duration_seconds_bucket{op="read",le="2.5e-05"} 1\n',
    );
    expect(text).toContain(
      'nbdts_request_duration_seconds_bucket{op="flush",le="+Inf"} 1\n' +
        'nbdts_request_duration_seconds_sum{op="flush"} 0.5\n' +
        'nbdts_request_duration_seconds_count{op="flush"} 1\n',
    );
    expect(text).toContain("# TYPE nbdts_connections_total counter\nnbdts_connections_total 2\n");
    expect(text).toContain("# TYPE nbdts_connections_active gauge\nnbdts_connections_active 1\n");
    expect(text).not.toContain("# UNIT");
    expect(text).not.toContain("# EOF");
  });

  test("OpenMetrics: families named without _total, units declared, # EOF last", () => {
    const text = exposition(live, true);
    expect(text).toContain('# TYPE nbdts_requests counter\nnbdts_requests_total{op="read"} 1\n');
    expect(text).toContain(
      "# TYPE nbdts_request_bytes counter\n# UNIT nbdts_request_bytes bytes\n",
    );
    expect(text).toContain("# UNIT nbdts_request_duration_seconds seconds\n");
    expect(text.endsWith("nbdts_connections_active 1\n# EOF\n")).toBe(true);
  });
});

describe("metricsEndpoint", () => {
  const answer = metricsEndpoint(new LiveStats(["read"]));

  test("GET /metrics gives the text format by default, OpenMetrics when preferred", () => {
    const plain = answer(get("/metrics"));
    expect(plain.status).toBe(200);
    expect(plain.headers["content-type"]).toBe("text/plain; version=0.0.4; charset=utf-8");
    const open = answer(get("/metrics", "application/openmetrics-text;version=1.0.0"));
    expect(open.headers["content-type"]).toBe(
      "application/openmetrics-text; version=1.0.0; charset=utf-8",
    );
    expect(open.body.endsWith("# EOF\n")).toBe(true);
  });

  test("another path is 404, another method 405 with Allow", () => {
    expect(answer(get("/")).status).toBe(404);
    expect(answer(get("")).status).toBe(404);
    const refused = answer(get("/metrics", undefined, "POST"));
    expect([refused.status, refused.headers.allow]).toEqual([405, "GET, HEAD"]);
    expect(answer(get("/metrics", undefined, "HEAD")).status).toBe(200);
  });
});

describe("prefersOpenMetrics", () => {
  test("follows q values, then the order given, as Prometheus asks", () => {
    // Prometheus 2.x's scrape Accept header.
    expect(prefersOpenMetrics(
      "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;" +
        "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
    )).toBe(true);
    expect(prefersOpenMetrics("text/plain;version=0.0.4;q=1,application/openmetrics-text;q=0.5"))
      .toBe(false);
    expect(prefersOpenMetrics("text/plain;q=0.2, application/openmetrics-text")).toBe(true);
    expect(prefersOpenMetrics("application/openmetrics-text;version=0.0.1")).toBe(false);
    expect(prefersOpenMetrics("application/openmetrics-text;q=0")).toBe(false);
    expect(prefersOpenMetrics("*/*")).toBe(false);
    expect(prefersOpenMetrics(undefined)).toBe(false);
  });
});
