/**
 * The state of option haggling on one connection (what client and server have agreed so far),
 * what an answered option leads to, and the checks on the client's flags that come first.
 */

import type { Backend } from "../backend/backend.ts";
import type { PeerAddress } from "../io.ts";
import { HANDSHAKE_FLAG } from "../protocol/constants.ts";
import type { TooLong } from "../protocol/handshake.ts";
import { type LimitHit, LIMITS } from "../protocol/limits.ts";

/** What the client and server have agreed so far. */
export interface Agreement {
  noZeroes: boolean;
  fixedNewstyle: boolean;
  structuredReplies: boolean;
  /** NBD_OPT_EXTENDED_HEADERS was acknowledged: it takes the place of structured replies. */
  extendedHeaders: boolean;
  /** The export named by the last SET_META_CONTEXT, and whether it selected base:allocation. */
  metaContextExport: string | undefined;
  baseAllocation: boolean;
  listed: boolean;
  optionsLeft: number;
  /** Whether this connection's runtime channel can be upgraded to TLS, and whether it was. */
  canStartTls: boolean;
  usingTls: boolean;
  /** The plugin's default export, once asked; forgotten at STARTTLS, as nbdkit forgets it. */
  defaultExport?: string;
  /** Where the client connects from, for the plugin's open (nbdkit_peer_name). */
  readonly peer?: PeerAddress;
}

/** The export a GO or EXPORT_NAME opened, ready for transmission. */
export interface OpenExport {
  backend: Backend;
  name: string;
  flags: number;
}

/** What to do after an option; `limits` are the limits it went over, for the log. */
export type Outcome =
  & (
    /** `release`: an export INFO opened, to close once the replies are queued. */
    | { next: "options"; replies: Uint8Array[]; release?: Backend }
    | { next: "transmission"; replies: Uint8Array[]; opened: OpenExport }
    /** Send the replies in clear, then upgrade to TLS (then close, when the budget is spent). */
    | { next: "starttls"; replies: Uint8Array[]; thenClose?: boolean }
    | { next: "close"; replies: Uint8Array[]; reason?: string }
  )
  & { limits?: LimitHit[] };

export function newAgreement(
  clientFlags: number,
  canStartTls = false,
  peer?: PeerAddress,
): Agreement {
  return {
    peer,
    noZeroes: (clientFlags & HANDSHAKE_FLAG.NO_ZEROES) !== 0,
    fixedNewstyle: (clientFlags & HANDSHAKE_FLAG.FIXED_NEWSTYLE) !== 0,
    structuredReplies: false,
    extendedHeaders: false,
    metaContextExport: undefined,
    baseAllocation: false,
    listed: false,
    optionsLeft: LIMITS.MAX_OPTIONS,
    canStartTls,
    usingTls: false,
  };
}

/** Client flags we do not know (or did not offer) end the connection, as in nbdkit. */
export function clientFlagsAcceptable(flags: number): boolean {
  return (flags & ~(HANDSHAKE_FLAG.FIXED_NEWSTYLE | HANDSHAKE_FLAG.NO_ZEROES)) === 0;
}

/** A TooLong that collects the limit hits of one option, answered with ERR_INVALID. */
export function stringHits(option: number): { hits: LimitHit[]; tooLong: TooLong } {
  const hits: LimitHit[] = [];
  const tooLong: TooLong = (what, length) =>
    hits.push({
      limit: "MAX_STRING",
      value: LIMITS.MAX_STRING,
      what: `${what} of ${length} bytes in option ${option}`,
      outcome: "answered ERR_INVALID",
    });
  return { hits, tooLong };
}
