/**
 * Reads a metrics endpoint's text as Prometheus reads it: the parsers of Prometheus's own Python
 * client (Debian's python3-prometheus-client) for the text format and for OpenMetrics, and
 * promtool's lint (`promtool check metrics`, from Debian's prometheus package). Never judges:
 * it returns what they made of the text, or throws with what they said.
 */

import { spawnSync } from "node:child_process";
import { clientEnv, run, type RunResult } from "./captive.ts";
import { requireClients, type SkippableContext } from "./servers.ts";

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface MetricFamily {
  readonly name: string;
  readonly type: string;
  readonly unit: string;
  readonly help: string;
  readonly samples: readonly Sample[];
}

/** The families the client's parser finds, as JSON; it raises on anything out of format. */
const PARSE = `
import json, sys
if sys.argv[1] == "openmetrics":
    from prometheus_client.openmetrics.parser import text_string_to_metric_families
else:
    from prometheus_client.parser import text_string_to_metric_families
families = [dict(name=f.name, type=f.type, unit=f.unit, help=f.documentation,
                 samples=[dict(name=s.name, labels=s.labels, value=s.value) for s in f.samples])
            for f in text_string_to_metric_families(sys.stdin.read())]
print(json.dumps(families))
`;

/** Skips (fails, under NBD_REQUIRE_CLIENTS=1) unless promtool and the Python client are here. */
export function requirePrometheusTools(context: SkippableContext): void {
  requireClients(context, "promtool", "python3");
  const probe = spawnSync("python3", ["-c", "import prometheus_client"], { env: clientEnv() });
  if (probe.status === 0) return;
  const message = "requires python3-prometheus-client, which is not installed";
  if (process.env.NBD_REQUIRE_CLIENTS === "1") throw new Error(`Cannot run test: ${message}`);
  context.skip(message);
}

/** What Prometheus's parser for `format` reads in `text`; throws with its complaint. */
export async function parseMetrics(
  text: string,
  format: "text" | "openmetrics",
): Promise<MetricFamily[]> {
  const result = await run(["python3", "-c", PARSE, format], { input: text });
  if (result.status !== 0) {
    throw new Error(`The ${format} parser refused the metrics:\n${result.stderr}\n${text}`);
  }
  return JSON.parse(result.stdout) as MetricFamily[];
}

/** `promtool check metrics` on `text`: status 0 and no output when it finds nothing wrong. */
export function promtoolCheck(text: string): Promise<RunResult> {
  return run(["promtool", "check", "metrics"], { input: text });
}

/** The value of the one sample named `name` whose labels include `labels`. */
export function sampleValue(
  families: readonly MetricFamily[],
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number {
  const found = families.flatMap((family) => family.samples).filter((sample) =>
    sample.name === name &&
    Object.entries(labels).every(([key, value]) => sample.labels[key] === value)
  );
  if (found.length !== 1) {
    throw new Error(`Expected one sample ${name} ${JSON.stringify(labels)}, found ${found.length}`);
  }
  return found[0].value;
}
