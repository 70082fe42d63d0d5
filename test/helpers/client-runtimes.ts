/**
 * The runtimes the NBD client is tested on: Node in the test's own process (vitest runs the
 * TypeScript sources), Deno and Bun as subprocesses running test/fixtures/client-scenario-main.ts.
 * Each runs the same scenarios (test/fixtures/client-scenario.ts, and the 4 TiB one of
 * client-extended-scenario.ts) and returns their JSON.
 */

import { join } from "node:path";
import { connect } from "../../src/runtime/client-sockets.ts";
import { clientScenario } from "../fixtures/client-scenario.ts";
import { extendedScenario } from "../fixtures/client-extended-scenario.ts";
import { expectSuccess, run } from "./captive.ts";
import { KNOWN_SERVERS, REPO_ROOT } from "./servers.ts";

export type ScenarioResult = Awaited<ReturnType<typeof clientScenario>>;
export type ExtendedScenarioResult = Awaited<ReturnType<typeof extendedScenario>>;

export interface ClientRuntime {
  readonly name: string;
  scenario(uri: string): Promise<ScenarioResult>;
  extendedScenario(uri: string): Promise<ExtendedScenarioResult>;
}

const MAIN = join(REPO_ROOT, "test/fixtures/client-scenario-main.ts");

function subprocess(name: string, argv: readonly string[]): ClientRuntime {
  const scenario = async (uri: string, which: string) => {
    const { stdout } = expectSuccess(await run([...argv, MAIN, uri, which]));
    return JSON.parse(stdout.trim().split("\n").at(-1)!);
  };
  return {
    name,
    scenario: (uri) => scenario(uri, "basic"),
    extendedScenario: (uri) => scenario(uri, "extended"),
  };
}

/** Node, Deno and Bun, where installed (NBD_CLIENTS=node,bun picks some). */
export const clientRuntimes: ClientRuntime[] = [
  {
    name: "node",
    scenario: (uri: string) => clientScenario((target) => connect(target), uri),
    extendedScenario: (uri: string) => extendedScenario((target) => connect(target), uri),
  },
  ...KNOWN_SERVERS.filter((server) => server.available && server.name !== "nbdts-node")
    .filter((server) => server.name.startsWith("nbdts-"))
    .map((server) => subprocess(server.name.slice(6), server.argv.slice(0, -1))),
].filter((runtime) => {
  const chosen = process.env.NBD_CLIENTS;
  return chosen === undefined || chosen.split(",").includes(runtime.name);
});
