/**
 * The stats filter's HTTP endpoint (statslisten=): GET or HEAD /metrics answers the live
 * counters in the format the scraper's Accept header prefers (OpenMetrics or Prometheus's text
 * format, the latter by default); another path gets 404, another method 405. It answers from
 * the counters as they are, at once, and never touches a request in flight.
 */

import type { HttpHandler, HttpResponse } from "../io.ts";
import { exposition, OPENMETRICS_TEXT, PROMETHEUS_TEXT } from "./stats-exposition.ts";
import type { LiveStats } from "./stats-live.ts";

export const METRICS_PATH = "/metrics";

const PLAIN = { "content-type": "text/plain; charset=utf-8" };

export function metricsEndpoint(live: LiveStats): HttpHandler {
  return (request) => {
    if (request.path !== METRICS_PATH) {
      return plain(404, `Not found: the metrics are at ${METRICS_PATH}\n`);
    }
    if (request.method !== "GET" && request.method !== "HEAD") {
      return {
        ...plain(405, "Method not allowed: use GET\n"),
        headers: { ...PLAIN, allow: "GET, HEAD" },
      };
    }
    const openMetrics = prefersOpenMetrics(request.header("accept"));
    return {
      status: 200,
      headers: { "content-type": openMetrics ? OPENMETRICS_TEXT : PROMETHEUS_TEXT },
      body: exposition(live, openMetrics),
    };
  };
}

function plain(status: number, body: string): HttpResponse {
  return { status, headers: PLAIN, body };
}

/**
 * Whether the Accept header's most preferred type we serve is OpenMetrics 1.0.0 (a version left
 * out counts as it): media ranges by their q (1 when absent), earlier first among equals, as
 * Prometheus lists them. Anything else, or no header, gets the text format.
 */
export function prefersOpenMetrics(accept: string | undefined): boolean {
  if (accept === undefined) return false;
  const ranges = accept.split(",").map((range, order) => {
    const [type, ...params] = range.split(";").map((part) => part.trim().toLowerCase());
    const param = (name: string) =>
      params.find((p) => p.startsWith(`${name}=`))?.slice(name.length + 1);
    const q = Number(param("q") ?? "1");
    return { type, version: param("version"), q: Number.isFinite(q) ? q : 0, order };
  }).filter((range) => range.q > 0).sort((a, b) => b.q - a.q || a.order - b.order);
  for (const { type, version } of ranges) {
    if (type === "application/openmetrics-text" && (version ?? "1.0.0") === "1.0.0") return true;
    if (type === "text/plain" || type === "text/*" || type === "*/*") return false;
  }
  return false;
}
