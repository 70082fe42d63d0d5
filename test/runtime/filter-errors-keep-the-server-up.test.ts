/**
 * A user filter that throws at a connection's stage (preconnect, open, a read, close) fails
 * that client only: the error is logged with the stage, and the next client is served, on every
 * runtime. JavaScript lets a filter throw anything, so `undefined` and a bare string are thrown
 * too: they must end up as a log line, never as a crashed server.
 */

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { captive, scratchDir } from "../helpers/captive.ts";
import { KNOWN_SERVERS, requireClients } from "../helpers/servers.ts";

const ours = KNOWN_SERVERS.filter((server) => server.available && server.name.startsWith("nbdts-"));

/** A filter that throws `thrown` the first time the stage `at` runs, and never again. */
const FILTER = `
let spent = false;
let at = "";
let thrown;
const maybeThrow = (stage) => {
  if (stage !== at || spent) return;
  spent = true;
  throw thrown;
};
export default {
  name: "flaky",
  config(next, key, value) {
    if (key === "at") at = value;
    else if (key === "thrown") thrown = { undefined: undefined, string: "a bare string", error: new Error("boom") }[value];
    else return next(key, value);
  },
  async preconnect(next, readonly) {
    maybeThrow("preconnect");
    await next(readonly);
  },
  async open(next, readonly, exportName) {
    maybeThrow("open");
    await next(readonly, exportName);
    return {
      readAt(buf) { maybeThrow("read"); buf.fill(7); },
      close() { maybeThrow("close"); },
    };
  },
};
`;

/** Two clients, one after the other, each reading 4 bytes; prints what each got. */
const TWO_CLIENTS = `
for i in 1 2; do
  nbdsh -u "$uri" -c 'print(list(h.pread(4, 0)))' 2>/dev/null || echo failed
done
`;

describe.each(ours)("a throwing filter ($name)", (server) => {
  const stages = ["preconnect", "open", "read", "close"] as const;
  const values = ["error", "undefined", "string"] as const;
  test.for(stages.flatMap((at) => values.map((thrown) => ({ at, thrown }))))(
    "$thrown thrown at $at fails one client, is logged, and the next is served",
    async ({ at, thrown }, context) => {
      requireClients(context, "nbdsh");
      const filter = join(scratchDir(), "flaky.mjs");
      writeFileSync(filter, FILTER);
      const result = await captive(
        server,
        ["memory", "1M", `at=${at}`, `thrown=${thrown}`],
        TWO_CLIENTS,
        { serverOptions: [`--filter=${filter}`] },
      );
      const [first, second] = result.stdout.trim().split("\n");
      // A close that fails comes after the client has its data.
      expect(first).toBe(at === "close" ? "[7, 7, 7, 7]" : "failed");
      expect(second).toBe("[7, 7, 7, 7]");
      const said = { error: "boom", undefined: "undefined", string: "a bare string" }[thrown];
      expect(result.stderr).toMatch(new RegExp(`error: .*${said}$`, "m"));
      expect(result.status).toBe(0);
    },
  );
});
