/**
 * --filter=error (man nbdkit-error-filter, which nbdkit names "error-inject") fails requests on
 * purpose: `error=` picks the errno, `error-rate=` how often (only 0% and 100% are compared with
 * nbdkit, whose generator is seeded from the clock), `error-file=` a file that must exist for
 * errors to happen, and each setting also comes per kind of request. Failures reach the client
 * as nbdkit's do, and each is logged with nbdkit's words. With `error-seed=` (nbdts only) the
 * same requests fail on every run.
 */

import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { captive, runServer, scratchDir } from "../helpers/captive.ts";
import { refusedStart } from "../helpers/filters.ts";
import { dedent, libnbd } from "../helpers/libnbd.ts";
import { requireClients, servers } from "../helpers/servers.ts";

/** Python: `attempts()` is the outcome of one request of each kind, in KINDS' order. */
const ATTEMPTS = `
def attempts():
    return [outcome(lambda: h.pread(512, 0)), outcome(lambda: h.pwrite(b"a" * 512, 0)),
            outcome(lambda: h.trim(512, 0)), outcome(lambda: h.zero(512, 0)),
            outcome(lambda: extents(h, 512, 0)), outcome(lambda: h.cache(512, 0)),
            outcome(lambda: h.flush())]
`;

const ALL_OK = ["ok", "ok", "ok", "ok", "ok", "ok", "ok"];

function attempts(server: (typeof servers)[number], params: readonly string[], body: string) {
  return libnbd(
    server,
    ["--filter=error", "memory", "1M", ...params],
    `h = connect(lambda h: h.add_meta_context(nbd.CONTEXT_BASE_ALLOCATION))\n${ATTEMPTS}${
      dedent(body)
    }`,
  );
}

describe.each(servers)("error filter ($name)", (server) => {
  test("error-rate=100% fails every kind of request but flush; 0% none", async (context) => {
    requireClients(context, "nbdsh");
    expect(await attempts(server, ["error-rate=100%"], "report(all=attempts())")).toEqual({
      all: ["EIO", "EIO", "EIO", "EIO", "EIO", "EIO", "ok"],
    });
    expect(await attempts(server, ["error-rate=1", "error=ENOSPC"], "report(all=attempts())"))
      .toEqual({ all: ["ENOSPC", "ENOSPC", "ENOSPC", "ENOSPC", "ENOSPC", "ENOSPC", "ok"] });
    expect(await attempts(server, ["error-rate=0"], "report(all=attempts())")).toEqual({
      all: ALL_OK,
    });
    expect(await attempts(server, [], "report(all=attempts())")).toEqual({ all: ALL_OK });
  });

  test("per-kind settings fail only their kind, with their own errno", async (context) => {
    requireClients(context, "nbdsh");
    const result = await attempts(
      server,
      [
        "error-pwrite-rate=100%",
        "error-pwrite=EPERM",
        "error-extents-rate=1",
        "error-cache-rate=1",
        "error-cache=ESHUTDOWN",
        "error-zero-rate=1",
        "error-zero=ENOMEM",
        "error-trim-rate=1",
        "error-trim=EINVAL",
      ],
      "report(all=attempts())",
    );
    expect(result).toEqual({
      all: ["ok", "EPERM", "EINVAL", "ENOMEM", "EIO", "ESHUTDOWN", "ok"],
    });
  });

  test("error-file= switches errors on while the file exists", async (context) => {
    requireClients(context, "nbdsh");
    const trigger = join(scratchDir(), "trigger");
    const file = JSON.stringify(trigger);
    const result = await attempts(
      server,
      ["error-rate=100%", `error-file=${trigger}`, "error-pread-file=/nonexistent/file"],
      `
      off = attempts()
      open(${file}, "w").close()
      on = attempts()
      os.remove(${file})
      report(off=off, on=on, again=attempts())
    `,
    );
    expect(result).toEqual({
      off: ALL_OK,
      // Reads have a trigger file of their own, which never exists.
      on: ["ok", "EIO", "EIO", "EIO", "EIO", "EIO", "ok"],
      again: ALL_OK,
    });
  });

  test("each injected error is logged with nbdkit's words", async (context) => {
    requireClients(context, "nbdsh");
    const result = await captive(
      server,
      ["--filter=error", "memory", "1M", "error-pread-rate=1", "error-pread=ENOSPC"],
      `nbdsh -u "$uri" -c 'h.pread(1, 0)' 2>/dev/null || echo refused`,
    );
    expect(result.stdout).toContain("refused");
    expect(result.stderr).toContain("error: injecting ENOSPC error into pread");
  });

  test("bad settings are refused with nbdkit's words, and --help shows its parameters", async () => {
    const refused = (param: string) => refusedStart(server, ["--filter=error", "null", param]);
    expect(await refused("error=EAGAIN")).toContain("error: unknown error name 'EAGAIN'");
    expect(await refused("error-rate=x")).toContain("error-rate: could not parse rate 'x'");
    expect(await refused("error-rate=150%")).toContain(
      "error-rate: rate out of range: '150%' parsed as 1.5",
    );
    expect(await refused("error-zero-rate=-0.5")).toContain(
      "error-zero-rate: rate out of range: '-0.5' parsed as -0.5",
    );
    const help = await runServer(server, ["--filter=error", "null", "--help"]);
    expect(help.stdout).toContain(
      "error=EPERM|EIO|ENOMEM|EINVAL|ENOSPC|ESHUTDOWN\n" +
        "                               The error indication to return.\n" +
        "error-rate=0%..100%|0..1       Rate of errors to generate.\n" +
        "error-file=TRIGGER             Set trigger filename.\n" +
        "error-pread*, error-pwrite*, error-trim*, error-zero*, error-extents*\n" +
        "                               Apply settings only to read/write/etc\n",
    );
    expect(help.stdout).toMatch(/^filter: error-inject \(/m);
  });
});

describe.each(servers.filter((server) => server.name !== "nbdkit"))(
  "error filter, error-seed= ($name; nbdkit has no seed parameter)",
  (server) => {
    test("with error-seed= the same requests fail on every run, at about the rate", async (context) => {
      requireClients(context, "nbdsh");
      const body = `report(reads=[outcome(lambda: h.pread(1, i)) for i in range(200)])`;
      const params = ["error-pread-rate=25%", "error-seed=42"];
      const first = (await attempts(server, params, body)).reads as string[];
      const second = (await attempts(server, params, body)).reads as string[];
      expect(second).toEqual(first);
      const failed = first.filter((one) => one === "EIO").length;
      expect(failed).toBeGreaterThan(20);
      expect(failed).toBeLessThan(80);
      const other = (await attempts(server, ["error-pread-rate=25%", "error-seed=43"], body))
        .reads as string[];
      expect(other).not.toEqual(first);
    });
  },
);
