/**
 * A connection through two filters takes its steps in nbdkit's order (man nbdkit-filter,
 * ".prepare" and ".finalize"): open outside in, each filter calling next first; prepare inside
 * out once every layer is open; finalize, then close, outside in. nbdkit's own sh plugin cannot
 * host a filter, so against nbdkit the order is read from its -v debug lines for two built-in
 * filters (server/backend.c logs each step of each layer); against nbdts a filter module that
 * prints each step is stacked twice. Both must give the same sequence.
 */

import { describe, expect, test } from "vitest";
import { captive, expectSuccess } from "../helpers/captive.ts";
import { REPO_ROOT, requireClients, type Server, servers } from "../helpers/servers.ts";

const ORDER_FILTER = `${REPO_ROOT}test/fixtures/order-filter.ts`;

/** What every server must show: `outer` is the first --filter, `inner` the second. */
const NBDKIT_ORDER = [
  "outer open",
  "inner open",
  "inner open returned",
  "outer open returned",
  "inner prepare",
  "outer prepare",
  "outer finalize",
  "inner finalize",
  "outer close",
  "inner close",
];

/** The steps of the two filters, in the order the server took them. */
async function steps(server: Server): Promise<string[]> {
  // nbdkit skips finalize and close when --run ends before its connection thread gets there
  // (connections.c: nothing is called once quit is set): give it that moment.
  const script = 'nbdinfo --size "$uri" && sleep 0.5';
  if (server.name === "nbdkit") {
    const args = ["-v", "--filter=offset", "--filter=truncate", "memory", "1M"];
    const { stderr } = expectSuccess(await captive(server, args, script));
    const role: Record<string, string> = { offset: "outer", truncate: "inner" };
    return [...stderr.matchAll(/debug: (offset|truncate): (open|prepare|finalize|close)\b(.*)/g)]
      .map(([, name, step, rest]) => {
        const returned = step === "open" && rest.startsWith(" returned") ? " returned" : "";
        return `${role[name]} ${step}${returned}`;
      });
  }
  const args = [
    `--filter=${ORDER_FILTER}`,
    `--filter=${ORDER_FILTER}`,
    "memory",
    "1M",
    "tag=outer",
    "tag=inner",
  ];
  const { stderr } = expectSuccess(await captive(server, args, script));
  return [...stderr.matchAll(/^ORDER (\w+) (.+)$/gm)].map(([, tag, step]) => `${tag} ${step}`);
}

describe.each(servers)("filter connection steps ($name)", (server) => {
  test("open outside in, prepare inside out, finalize and close outside in, as nbdkit", async (context) => {
    requireClients(context, "nbdinfo");
    expect(await steps(server)).toEqual(NBDKIT_ORDER);
  });
});
