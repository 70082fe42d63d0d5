/**
 * Oldstyle negotiation (-o; the spec's "Oldstyle negotiation"), as nbdkit's
 * protocol_handshake_oldstyle: no options at all. The one export, "", is opened as soon as the
 * client connects, and the greeting carries its size and flags; requests follow at once, with
 * simple replies only. A failure to open can be told to no one: the connection closes.
 */

import { messageOf } from "../api/errors.ts";
import { encodeOldstyleGreeting } from "../protocol/handshake.ts";
import type { Agreement, Outcome } from "./agreement.ts";
import type { ConnectionLog } from "./connection-log.ts";
import type { ServerContext } from "./context.ts";
import { openExport } from "./open-export.ts";

/** The outcome of a connection's oldstyle handshake: the greeting and transmission, or close. */
export async function negotiateOldstyle(
  ctx: ServerContext,
  agreement: Agreement,
  log: ConnectionLog,
): Promise<Outcome> {
  try {
    const opened = await openExport(ctx, agreement, "", log);
    const greeting = encodeOldstyleGreeting(opened.backend.caps.size, opened.flags);
    return { next: "transmission", replies: [greeting], opened };
  } catch (error) {
    return { next: "close", replies: [], reason: `cannot open export "": ${messageOf(error)}` };
  }
}
