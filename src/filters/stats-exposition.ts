/**
 * The stats filter's live counters (stats-live.ts) as the text a scraper reads: Prometheus's
 * text format 0.0.4, or OpenMetrics 1.0.0 when the scraper asks for it. Every family has its HELP
 * and TYPE (and, in OpenMetrics, its UNIT); counters end in `_total`; the latency histogram has
 * cumulative `_bucket{le=…}` lines up to +Inf, then `_sum` and `_count`. Writes text only.
 *
 *   # HELP nbdts_requests_total Requests that succeeded, by operation.
 *   # TYPE nbdts_requests_total counter
 *   nbdts_requests_total{op="read"} 7
 */

import { LATENCY_BUCKETS, type LiveStats } from "./stats-live.ts";

export const PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";
export const OPENMETRICS_TEXT = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/** One metric family: its name (without `_total`), kind, unit and help, and its sample lines. */
interface Family {
  readonly name: string;
  readonly type: "counter" | "gauge" | "histogram";
  readonly unit?: string;
  readonly help: string;
  samples(live: LiveStats, sample: string): string;
}

/** One sample per kind of request, `value` picking its number. */
function perKind(value: (live: LiveStats, kind: number) => number) {
  return (live: LiveStats, sample: string) =>
    live.kinds.map((op, kind) => `${sample}{op="${op}"} ${value(live, kind)}\n`).join("");
}

const FAMILIES: readonly Family[] = [
  {
    name: "nbdts_requests",
    type: "counter",
    help: "Requests that succeeded, by operation.",
    samples: perKind((live, kind) => live.requests[kind]),
  },
  {
    name: "nbdts_request_errors",
    type: "counter",
    help: "Requests that failed, by operation.",
    samples: perKind((live, kind) => live.errors[kind]),
  },
  {
    name: "nbdts_request_bytes",
    type: "counter",
    unit: "bytes",
    help: "Bytes the requests that succeeded covered, by operation (a flush covers none).",
    samples: perKind((live, kind) => live.bytes[kind]),
  },
  {
    name: "nbdts_request_duration_seconds",
    type: "histogram",
    unit: "seconds",
    help: "Time the requests that succeeded took below the stats filter, by operation.",
    samples: histogram,
  },
  {
    name: "nbdts_connections",
    type: "counter",
    help: "Connections that opened an export through the stats filter.",
    samples: (live, sample) => `${sample} ${live.connectionsOpened}\n`,
  },
  {
    name: "nbdts_connections_active",
    type: "gauge",
    help: "Connections open through the stats filter now.",
    samples: (live, sample) => `${sample} ${live.connectionsActive}\n`,
  },
];

function histogram(live: LiveStats, name: string): string {
  let text = "";
  live.kinds.forEach((op, kind) => {
    const counts = live.cumulative(kind);
    counts.forEach((count, bucket) => {
      const le = LATENCY_BUCKETS[bucket]?.[1] ?? "+Inf";
      text += `${name}_bucket{op="${op}",le="${le}"} ${count}\n`;
    });
    text += `${name}_sum{op="${op}"} ${live.seconds[kind]}\n`;
    text += `${name}_count{op="${op}"} ${counts[counts.length - 1]}\n`;
  });
  return text;
}

/** Every family's metadata and samples; OpenMetrics names a counter's family without `_total`. */
export function exposition(live: LiveStats, openMetrics: boolean): string {
  let text = "";
  for (const family of FAMILIES) {
    const sample = family.type === "counter" ? `${family.name}_total` : family.name;
    const declared = openMetrics ? family.name : sample;
    text += `# HELP ${declared} ${family.help}\n# TYPE ${declared} ${family.type}\n`;
    if (openMetrics && family.unit !== undefined) text += `# UNIT ${declared} ${family.unit}\n`;
    text += family.samples(live, sample);
  }
  return openMetrics ? text + "# EOF\n" : text;
}
