/**
 * A script that never ends. nbdkit 1.32.5 waits for it for ever: its request never gets a reply,
 * and under the default thread model (serialize_all_requests) nor does any other client's, nor
 * does the server stop on SIGTERM. nbdts holds up nothing but that request when the script
 * allows parallel requests, as nbdkit does (checked against nbdkit too), and then, which nbdkit
 * lacks (so those tests leave nbdkit out), gives up after NBDTS_SCRIPT_TIMEOUT seconds: it kills
 * the script and everything it started, fails the request with EIO, and serves the next
 * request, other clients' waiting ones included.
 */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { startServer } from "../helpers/background.ts";
import { scratchDir } from "../helpers/captive.ts";
import { CMD, RawConnection, request, WIRE } from "../helpers/raw-nbd.ts";
import { writeScript } from "../helpers/scripts.ts";
import { type Server, servers } from "../helpers/servers.ts";

const EIO = 5;

/** A script whose reads at offset 0 start a `sleep` that outlives any test, and wait for it. */
function hangingScript(threadModel: string) {
  const dir = scratchDir();
  const sleeper = join(dir, "sleeper");
  const script = writeScript(
    `case "$1" in
  thread_model) echo ${threadModel} ;;
  get_size) echo 1M ;;
  pread)
    if [ "$4" = 0 ]; then sleep 3600 & echo $! > '${sleeper}'; wait; fi
    dd if=/dev/zero count=$3 iflag=count_bytes status=none ;;
  *) exit 2 ;;
esac
`,
    dir,
  );
  return { script, sleeper };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts a READ at offset 0 on a fresh connection; its reply is not waited for. */
async function stuckRead(socket: string): Promise<RawConnection> {
  const stuck = await RawConnection.opened(socket);
  stuck.write(request({ type: CMD.READ, cookie: 7n, offset: 0, length: 512 }));
  await sleep(300);
  return stuck;
}

const ours = (server: Server) => server.name !== "nbdkit";

/** Whether process `pid` still runs: a zombie (killed, not yet reaped by init) does not. */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

/** Ends the sleep a test left behind (nbdkit's, or one that outlived its test). */
function endSleeper(sleeper: string): void {
  try {
    process.kill(Number(readFileSync(sleeper, "utf8")));
  } catch {
    // never started, or gone
  }
}

describe.each(servers)("an sh script that never ends ($name)", (server) => {
  test("holds up only its own request when the script allows parallel requests", async () => {
    const { script, sleeper } = hangingScript("parallel");
    const background = await startServer(server, ["sh", script]);
    const stuck = await stuckRead(background.socket);
    const other = await RawConnection.opened(background.socket);
    expect((await other.pread(512, 4096)).error).toBe(0);
    other.close();
    stuck.close();
    endSleeper(sleeper);
  });

  test.runIf(ours(server))(
    "is killed after NBDTS_SCRIPT_TIMEOUT; its read fails with EIO and the connection goes on",
    async () => {
      const { script, sleeper } = hangingScript("parallel");
      const background = await startServer(server, ["sh", script], {
        env: { NBDTS_SCRIPT_TIMEOUT: "1.5" },
      });
      const stuck = await stuckRead(background.socket);
      const reply = await stuck.readSimpleReply(10_000);
      expect(reply).toEqual({ magic: WIRE.SIMPLE_REPLY_MAGIC, error: EIO, cookie: 7n });
      expect((await stuck.pread(512, 4096)).error).toBe(0);
      stuck.close();
      expect(background.stderr()).toMatch(
        /plugin\.sh: pread did not finish in 1\.5 s, killed it \(NBDTS_SCRIPT_TIMEOUT=SECONDS/,
      );
      expect(running(Number(readFileSync(sleeper, "utf8")))).toBe(false);
    },
  );

  test.runIf(ours(server))(
    "under serialize_all_requests, other clients wait only until the deadline",
    async () => {
      const { script, sleeper } = hangingScript("serialize_all_requests");
      const background = await startServer(server, ["sh", script], {
        env: { NBDTS_SCRIPT_TIMEOUT: "1" },
      });
      const stuck = await stuckRead(background.socket);
      const other = await RawConnection.opened(background.socket);
      expect((await other.pread(512, 4096)).error).toBe(0);
      expect((await stuck.readSimpleReply(10_000)).error).toBe(EIO);
      other.close();
      stuck.close();
      endSleeper(sleeper);
    },
  );
});
