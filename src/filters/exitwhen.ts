/**
 * The exitwhen filter (man nbdkit-exitwhen-filter): the server exits gracefully when an event
 * happens (exitwhen-events.ts: `exit-when-file-created=`, `-file-deleted=`, `-process-exits=`,
 * `-pipe-closed=`, `-script=`; any number of them). The events are checked at start-up (one
 * that has happened already ends the server before it serves, status 0), every
 * `exit-when-poll=` seconds (60) while no client is connected, when a client connects (refused
 * once an event has happened) and when one leaves; the server stops once an event has happened
 * and the last client has gone.
 */

import { debug } from "../api/debug.ts";
import { NbdError } from "../api/errors.ts";
import type { Filter } from "../api/filter.ts";
import { parseUnsigned } from "../api/parse-integer.ts";
import { shutdown } from "../api/shutdown.ts";
import { VERSION } from "../api/version.ts";
import type { PluginHost } from "../io.ts";
import { eventOf, type ExitEvent } from "./exitwhen-events.ts";

export function createExitwhenFilter(host?: PluginHost): Filter {
  const events: ExitEvent[] = [];
  let pollSeconds = 60;
  let connections = 0;
  let exiting = false;
  let poller: ReturnType<typeof setTimeout> | undefined;
  let unloaded = false;

  /** Checks every event until one has happened; once one has, it stays so. */
  const happened = async () => {
    for (const event of events) {
      if (exiting) break;
      if (await event.check()) exiting = true;
    }
    return exiting;
  };

  const poll = async () => {
    if (connections === 0 && await happened()) {
      debug("exitwhen: shutdown from polling thread");
      shutdown();
    }
    if (!unloaded) poller = setTimeout(poll, pollSeconds * 1000);
  };

  return {
    name: "exitwhen",
    longname: "nbdts exitwhen filter",
    version: VERSION,

    config(next, key, value) {
      if (key === "exit-when-poll") {
        pollSeconds = parseUnsigned("exit-when-poll", value);
        return;
      }
      const event = eventOf(key, value, host);
      if (event === undefined) return next(key, value);
      events.push(event);
    },

    async getReady() {
      // Already happened: nbdkit exits here, status 0, before it listens.
      if (await happened()) shutdown();
    },

    afterFork() {
      void poll();
    },

    unload() {
      unloaded = true;
      clearTimeout(poller);
    },

    async preconnect(next, readonly) {
      if (await happened()) {
        throw new NbdError("ESHUTDOWN", "exitwhen: nbdkit is exiting: rejecting new connection");
      }
      await next(readonly);
    },

    async open(next, readonly, exportName) {
      await next(readonly, exportName);
      connections++;
      return {
        async close() {
          await happened();
          if (--connections === 0 && exiting) {
            debug("exitwhen: exiting on last client connection");
            shutdown();
          }
        },
      };
    },
  };
}
