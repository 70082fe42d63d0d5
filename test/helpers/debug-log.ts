/**
 * Reads a server's -v log, nbdkit's or nbdts's, into the events a user follows in it: the same
 * parser for both, so a test comparing the events proves the two logs tell the same story.
 * nbdkit's lines are `nbdkit: memory[1]: debug: …` (a connection) or `nbdkit: memory.0: debug: …`
 * (one of its worker threads); nbdts's are `nbdts: memory[1]: debug: …`. Never judges a log.
 */

/** One line of the log, split as nbdkit writes it. */
export interface LogLine {
  readonly program: string;
  /**
   * "memory[1]", "memory.0", "memory" (nbdts names a plugin's own debug() lines so), or
   * undefined for a line about the whole server.
   */
  readonly thread: string | undefined;
  readonly level: "debug" | "error";
  readonly message: string;
}

const LINE = /^([\w-]+): (?:([\w-]+(?:\[\d+\]|\.\d+)?): )?(debug|error): (.*)$/;

/** The log's lines; continuation lines (a stack, a traceback) are left out. */
export function logLines(stderr: string): LogLine[] {
  const lines: LogLine[] = [];
  for (const text of stderr.split("\n")) {
    const match = LINE.exec(text);
    if (!match) continue;
    const [, program, thread, level, message] = match;
    lines.push({ program, thread, level: level as "debug" | "error", message });
  }
  return lines;
}

/** Requests as nbdkit's backend names them, with their arguments. */
const REQUEST = /^[\w-]+: ((?:pread|pwrite|trim|zero|extents|cache) count=\d+ offset=\d+.*|flush)$/;

/**
 * The events of a -v log, in order:
 * - `connection`: a client connected;
 * - `option NBD_OPT_X`: each option the client sent (several lines about one option are one
 *   event), `reply NBD_OPT_X NBD_REP_Y` for each ACK or error sent;
 * - `tls`: the connection now uses TLS;
 * - `open "NAME" readonly=N tls=N`, `export flags 0xN`, `close`: the plugin's export opened (a
 *   control-path line), the transmission flags computed, the export closed;
 * - one event per request: `pread count=512 offset=0`, `flush`, …;
 * - `NBD_CMD_DISC` or `client closed`: how the connection ended.
 */
export function logEvents(stderr: string): string[] {
  const events: string[] = [];
  let lastOption: string | undefined;
  const option = (name: string) => {
    if (name !== lastOption) events.push(`option ${name}`);
    lastOption = name;
  };
  for (const { level, message } of logLines(stderr)) {
    if (level !== "debug") continue;
    let match;
    if (/^(accepted connection|new connection from )/.test(message)) {
      events.push("connection");
      lastOption = undefined;
    } else if ((match = /^replying to (NBD_OPT_\w+) with (NBD_REP_\w+)$/.exec(message))) {
      option(match[1]);
      events.push(`reply ${match[1]} ${match[2]}`);
    } else if ((match = /^(?:newstyle negotiation: |client sent )(NBD_OPT_\w+)/.exec(message))) {
      option(match[1]);
    } else if (message === "using TLS on this connection") {
      events.push("tls");
    } else if ((match = /^[\w-]+: open readonly=(\d) exportname=(".*") tls=(\d)$/.exec(message))) {
      events.push(`open ${match[2]} readonly=${match[1]} tls=${match[3]}`);
    } else if ((match = /^newstyle negotiation: flags: export (0x[0-9a-f]+)$/.exec(message))) {
      events.push(`export flags ${match[1]}`);
    } else if (/^[\w-]+: close$/.test(message)) {
      events.push("close");
    } else if ((match = REQUEST.exec(message))) {
      events.push(match[1]);
    } else if (/^client sent NBD_CMD_DISC/.test(message)) {
      events.push("NBD_CMD_DISC");
    } else if (/^client closed input socket/.test(message)) {
      events.push("client closed");
    }
  }
  return events;
}
