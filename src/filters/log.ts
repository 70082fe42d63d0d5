/**
 * The log filter (man nbdkit-log-filter): records every request and reply, and the server's
 * life around them, in nbdkit's exact format (log-output.ts) to `logfile=` (emptied at start
 * unless `logappend=true`) and through `logscript=` (a shell script run per entry with the
 * entry's fields as variables), and, for a program that embeds nbdts, to a function, stream or
 * WebSocket given as `to` (log-destination.ts). Without any of them it does nothing. Placed
 * first it shows what clients asked; placed later, what the filters before it made of that.
 *
 * Entries: Ready (thread model) and Fork at start; Preconnect and ListExports with their result;
 * per export opened, Connect (the name and what the layer below can do), then each Read, Write,
 * Zero, Trim, Flush, Extents and Cache as two halves paired by `id`, then Disconnect with the
 * number of requests.
 */

import { ConfigError } from "../api/errors.ts";
import type { Filter, NextHandle } from "../api/filter.ts";
import { Extents } from "../api/extents.ts";
import { parseBool } from "../api/parse.ts";
import { EXTENT, type ExtentSink, FLAG, type Offset } from "../api/plugin.ts";
import { shellQuote } from "../api/shell-quote.ts";
import { VERSION } from "../api/version.ts";
import type { PluginHost } from "../io.ts";
import { lineSink, type LogDestination } from "./log-destination.ts";
import { type Entry, LogOutput, outcome } from "./log-output.ts";

/** One open export's log state: its connection number and the last request id. */
interface Connection {
  readonly number: number;
  id: number;
}

const hex = (value: Offset | number) => `0x${value.toString(16)}`;
const bit = (flags: number, flag: number) => ((flags & flag) !== 0 ? 1 : 0);

/** What the log filter is made with: the runtime's host (logfile=, logscript=), a destination. */
export interface LogFilterOptions {
  host?: PluginHost;
  /**
   * Where each line also goes, from a program that embeds nbdts: a function, a WritableStream of
   * strings or a WebSocket (log-destination.ts); with it, the filter logs without logfile=.
   */
  to?: LogDestination;
}

export function createLogFilter({ host, to }: LogFilterOptions = {}): Filter {
  let logfile: string | undefined;
  let logscript: string | undefined;
  let append = false;
  let output = new LogOutput(undefined, undefined);
  let connections = 0;
  let preconnects = 0;
  let lists = 0;

  /** A server-wide entry (no connection). */
  const entry = (act: string, type: Entry["type"], id: number, fields: string): Entry => ({
    connection: 0,
    id,
    act,
    type,
    fields,
  });

  return {
    name: "log",
    longname: "nbdts log filter",
    version: VERSION,
    configHelp: "logfile=<FILE>               The file to place the log in.\n" +
      "logappend=<BOOL>             True to append to the log (default false).\n" +
      "logscript=<SCRIPT>           Script to run for logging.",

    config(next, key, value) {
      if (key === "logfile") logfile = value;
      else if (key === "logappend") append = parseBool(value);
      else if (key === "logscript") {
        if (host?.runShell === undefined) {
          throw new ConfigError("logscript: this runtime cannot run scripts");
        }
        logscript = value;
      } else return next(key, value);
    },

    async getReady(threadModel) {
      let file;
      if (logfile !== undefined) {
        if (host?.openTextOutput === undefined) {
          throw new ConfigError("logfile: this runtime cannot write files");
        }
        try {
          file = await host.openTextOutput(logfile, append);
        } catch (error) {
          throw new ConfigError(`open: ${logfile}: ${(error as Error).message}`);
        }
      }
      output = new LogOutput(file, logscript, host, to && lineSink(to));
      output.write(entry("Ready", "PRINT", 0, `thread_model=${threadModel}`));
    },

    afterFork(forked) {
      if (forked) output.write(entry("Fork", "PRINT", 0, ""));
    },

    unload() {
      output.close();
    },

    async preconnect(next, readonly) {
      const id = ++preconnects;
      output.write(entry("Preconnect", "ENTER", id, `readonly=${Number(readonly)}`));
      try {
        await next(readonly);
      } catch (error) {
        output.write(entry("Preconnect", "LEAVE", id, outcome(error)));
        throw error;
      }
      output.write(entry("Preconnect", "LEAVE", id, outcome()));
    },

    async listExports(next, readonly, tls) {
      const id = ++lists;
      const fields = `readonly=${Number(readonly)} tls=${Number(tls)}`;
      output.write(entry("ListExports", "ENTER", id, fields));
      let exports;
      try {
        exports = await next(readonly);
      } catch (error) {
        output.write(entry("ListExports", "LEAVE", id, outcome(error)));
        throw error;
      }
      const names = exports.map((one) => shellQuote(one.name)).join(" ");
      output.write(entry("ListExports", "LEAVE", id, `exports=(${names}) return=0`));
      return exports;
    },

    async open(next, readonly, exportName, tls) {
      const below = await next(readonly, exportName);
      if (!output.active) return {};
      const connection: Connection = { number: ++connections, id: 0 };
      const log = new ConnectionLog(output, connection, below);
      return {
        async prepare() {
          const fields = await connectFields(below, exportName, tls);
          output.write({ ...log.entry("Connect", "PRINT", 0), fields });
        },
        finalize() {
          const fields = `transactions=${connection.id}`;
          output.write({ ...log.entry("Disconnect", "PRINT", 0), fields });
        },
        readAt: (buf, offset) =>
          log.request(
            "Read",
            `offset=${hex(offset)} count=${hex(buf.length)}`,
            () => below.readAt(buf, offset),
          ),
        writeAt: (buf, offset, flags) =>
          log.request(
            "Write",
            `offset=${hex(offset)} count=${hex(buf.length)} fua=${bit(flags, FLAG.FUA)}`,
            () => below.writeAt(buf, offset, flags),
          ),
        flush: (flags) => log.request("Flush", "", () => below.flush(flags)),
        trim: (count, offset, flags) =>
          log.request(
            "Trim",
            `offset=${hex(offset)} count=${hex(count)} fua=${bit(flags, FLAG.FUA)}`,
            () => below.trim(count, offset, flags),
          ),
        zero: (count, offset, flags) =>
          log.request(
            "Zero",
            `offset=${hex(offset)} count=${hex(count)} trim=${bit(flags, FLAG.MAY_TRIM)} ` +
              `fua=${bit(flags, FLAG.FUA)} fast=${bit(flags, FLAG.FAST_ZERO)}`,
            () => below.zero(count, offset, flags),
          ),
        extents: (count, offset, flags, sink) => log.extents(count, offset, flags, sink),
        cache: (count, offset, flags) =>
          log.request(
            "Cache",
            `offset=${hex(offset)} count=${hex(count)}`,
            () => below.cache(count, offset, flags),
          ),
      };
    },
  };
}

/** The Connect line's fields: the export and everything the layer below can do. */
async function connectFields(below: NextHandle, exportName: string, tls: boolean) {
  const size = await below.getSize();
  const sizes = await below.blockSize();
  const answers = [
    ["write", await below.canWrite()],
    ["flush", await below.canFlush()],
    ["rotational", await below.isRotational()],
    ["trim", await below.canTrim()],
    ["zero", await below.zeroMode()],
    ["fua", await below.canFua()],
    ["extents", await below.canExtents()],
    ["cache", await below.canCache()],
    ["fast_zero", await below.canFastZero()],
  ] as const;
  return `export=${shellQuote(exportName)} tls=${Number(tls)} size=${hex(size)} ` +
    `minsize=${hex(sizes?.minimum ?? 0)} prefsize=${hex(sizes?.preferred ?? 0)} ` +
    `maxsize=${hex(sizes?.maximum ?? 0)} ` +
    answers.map(([name, value]) => `${name}=${Number(value)}`).join(" ");
}

/** One export's entries: each request's two halves, numbered in the order they start. */
class ConnectionLog {
  private readonly output: LogOutput;
  private readonly connection: Connection;
  private readonly below: NextHandle;

  constructor(output: LogOutput, connection: Connection, below: NextHandle) {
    this.output = output;
    this.connection = connection;
    this.below = below;
  }

  entry(act: string, type: Entry["type"], id: number): Entry {
    return { connection: this.connection.number, id, act, type, fields: "" };
  }

  /** Logs the request, runs `call`, then logs how it ended; failures go on to the client. */
  async request(act: string, fields: string, call: () => unknown): Promise<void> {
    const id = ++this.connection.id;
    this.output.write({ ...this.entry(act, "ENTER", id), fields });
    try {
      await call();
    } catch (error) {
      this.output.write({ ...this.entry(act, "LEAVE", id), fields: outcome(error) });
      throw error;
    }
    this.output.write({ ...this.entry(act, "LEAVE", id), fields: outcome() });
    await this.output.ready();
  }

  /**
   * Extents, read into a list of nbdkit's rules (the server's own bounds: from the offset
   * asked to the end of the disk) so the reply logs them as nbdkit's does, then passed on.
   */
  async extents(count: number, offset: Offset, flags: number, sink: ExtentSink): Promise<void> {
    const id = ++this.connection.id;
    const fields = `offset=${hex(offset)} count=${hex(count)} req_one=${bit(flags, FLAG.REQ_ONE)}`;
    this.output.write({ ...this.entry("Extents", "ENTER", id), fields });
    const list = new Extents(offset, await this.below.getSize());
    try {
      await this.below.extents(count, offset, flags, list);
    } catch (error) {
      this.output.write({ ...this.entry("Extents", "LEAVE", id), fields: outcome(error) });
      throw error;
    }
    const described: string[] = [];
    for (let i = 0; i < list.count; i++) {
      const { offset: start, length, type } = list.get(i);
      sink.add(start, length, type);
      const kinds = [type & EXTENT.HOLE ? "hole" : "", type & EXTENT.ZERO ? "zero" : ""];
      described.push(`${hex(start)} ${hex(length)} "${kinds.filter(Boolean).join(",")}"`);
    }
    const leave = `extents=(${described.join(" ")}) return=0`;
    this.output.write({ ...this.entry("Extents", "LEAVE", id), fields: leave });
    await this.output.ready();
  }
}
