/**
 * The fixed newstyle negotiation, from the client's side: client flags, then EXTENDED_HEADERS
 * (or, for a server that refuses them, STRUCTURED_REPLY), SET_META_CONTEXT (base:allocation)
 * and GO, each answered before the next is sent, falling back to EXPORT_NAME for a server
 * without GO; or the whole oldstyle greeting. LIST asks for the export list instead. What was
 * agreed comes back as an Agreement.
 */

import type { Offset } from "../api/plugin.ts";
import { BASE_ALLOCATION, HANDSHAKE_FLAG, INFO, OPT, REP } from "../protocol/constants.ts";
import {
  encodeClientFlags,
  encodeInfoRequest,
  encodeMetaContextRequest,
  encodeOption,
  type ListedExport,
  optionErrorText,
  parseInfoReply,
  parseMetaContextReply,
  parseServerReply,
} from "../protocol/client-messages.ts";
import type { ReplyEvent } from "../protocol/reply-codec.ts";
import { ConnectionClosedError, HandshakeError } from "./errors.ts";
import type { Link } from "./link.ts";
import type { ClientTlsCredentials } from "../io.ts";

/** What the client asks for in the handshake. */
export interface HandshakeOptions {
  /** The export to open ("" is the server's default). */
  exportName?: string;
  /** Ask for structured replies (default true): holes in reads, block status, error messages. */
  structuredReplies?: boolean;
  /**
   * Ask for extended headers first (default true, unless structured replies are turned off):
   * 64-bit lengths, so one zero, trim, cache or blockStatus may cover more than 4 GiB. A server
   * that refuses them gets STRUCTURED_REPLY instead.
   */
  extendedHeaders?: boolean;
  /** Meta contexts to ask for when structured replies are on (default ["base:allocation"]). */
  metaContexts?: readonly string[];
  /**
   * STARTTLS before any other option: "require" fails unless the server agrees, "on" goes on in
   * clear if it refuses; absent or "off", no TLS is asked for.
   */
  tls?: { readonly mode: "off" | "on" | "require"; readonly credentials: ClientTlsCredentials };
}

/** Block size constraints the server gave (NBD_INFO_BLOCK_SIZE). */
export interface BlockSizes {
  readonly minimum: number;
  readonly preferred: number;
  readonly maximum: number;
}

/** What the handshake settled. */
export interface Agreement {
  readonly exportName: string;
  readonly size: Offset;
  /** The transmission flags (TX_FLAG bits). */
  readonly flags: number;
  readonly structuredReplies: boolean;
  /** NBD_OPT_EXTENDED_HEADERS was acknowledged: 32-byte headers, 64-bit lengths. */
  readonly extendedHeaders: boolean;
  /** Each meta context the server agreed to, by name, with its id. */
  readonly metaContexts: ReadonlyMap<string, number>;
  readonly blockSizes?: BlockSizes;
  readonly description?: string;
  /** The server greeted oldstyle: no options, one export. */
  readonly oldstyle: boolean;
}

type OptionReply = Extract<ReplyEvent, { kind: "option-reply" }>;

/** Runs the handshake on a fresh link and answers what was agreed; the link is then in transmission. */
export async function negotiate(link: Link, options: HandshakeOptions): Promise<Agreement> {
  const exportName = options.exportName ?? "";
  const greeting = await link.nextEvent();
  if (greeting.kind === "oldstyle") {
    if (options.tls?.mode === "require") {
      throw new ConnectionClosedError("Cannot use TLS: the server greeted oldstyle");
    }
    link.startTransmission();
    const { size, flags } = greeting;
    return {
      exportName: "",
      size,
      flags,
      structuredReplies: false,
      extendedHeaders: false,
      metaContexts: new Map(),
      oldstyle: true,
    };
  }
  const noZeroes = await greet(link, greeting);
  if (options.tls && options.tls.mode !== "off") await startTls(link, options.tls);
  let structuredReplies = false;
  let extendedHeaders = false;
  const metaContexts = new Map<string, number>();
  if (options.structuredReplies ?? true) {
    if (options.extendedHeaders ?? true) {
      // They supersede structured replies; asking for those afterwards is an error.
      extendedHeaders = (await ask(link, OPT.EXTENDED_HEADERS)).type === REP.ACK;
    }
    structuredReplies = extendedHeaders ||
      (await ask(link, OPT.STRUCTURED_REPLY)).type === REP.ACK;
    const queries = options.metaContexts ?? [BASE_ALLOCATION];
    if (structuredReplies && queries.length > 0) {
      await setMetaContexts(link, exportName, queries, metaContexts);
    }
  }
  const infos = [INFO.NAME, INFO.DESCRIPTION, INFO.BLOCK_SIZE];
  const data = encodeInfoRequest(exportName, infos);
  await link.send([encodeOption(OPT.GO, data)]);
  const agreed = { exportName, structuredReplies, extendedHeaders, metaContexts, oldstyle: false };
  const go = await collectInfo(link, OPT.GO);
  if (go === "unsupported") {
    // The spec: after extended headers a client must not use EXPORT_NAME, whose reply could
    // not say they are in use (and a server that agreed to them must not refuse GO so).
    if (extendedHeaders) {
      throw new HandshakeError(OPT.GO, REP.ERR_UNSUP, "after extended headers were agreed");
    }
    return exportNameOnly(link, exportName, noZeroes, agreed);
  }
  link.startTransmission(extendedHeaders);
  return { ...agreed, ...go };
}

/** Sends the client flags for a newstyle greeting; answers whether NO_ZEROES was agreed. */
async function greet(link: Link, greeting: ReplyEvent): Promise<boolean> {
  if (greeting.kind !== "greeting") {
    throw new ConnectionClosedError(`Cannot negotiate: expected a greeting, got ${greeting.kind}`);
  }
  if (!(greeting.flags & HANDSHAKE_FLAG.FIXED_NEWSTYLE)) {
    throw new ConnectionClosedError("Cannot negotiate: the server is not fixed newstyle");
  }
  const noZeroes = (greeting.flags & HANDSHAKE_FLAG.NO_ZEROES) !== 0;
  const flags = HANDSHAKE_FLAG.FIXED_NEWSTYLE | (noZeroes ? HANDSHAKE_FLAG.NO_ZEROES : 0);
  await link.send([encodeClientFlags(flags)]);
  return noZeroes;
}

/** NBD_OPT_STARTTLS, then the TLS handshake on the same connection once the server agrees. */
async function startTls(
  link: Link,
  tls: { readonly mode: "off" | "on" | "require"; readonly credentials: ClientTlsCredentials },
): Promise<void> {
  const reply = await ask(link, OPT.STARTTLS);
  if (reply.type === REP.ACK) return await link.upgrade(tls.credentials);
  if (tls.mode === "require") {
    throw new HandshakeError(OPT.STARTTLS, reply.type, optionErrorText(reply.data));
  }
}

/** Sends one option and answers its single reply (ACK or an error). */
async function ask(link: Link, option: number, data?: Uint8Array): Promise<OptionReply> {
  await link.send([encodeOption(option, data)]);
  return await optionReply(link, option);
}

async function optionReply(link: Link, option: number): Promise<OptionReply> {
  const event = await link.nextEvent();
  if (event.kind !== "option-reply" || event.option !== option) {
    throw new ConnectionClosedError(`Cannot negotiate: the server answered out of turn`);
  }
  return event;
}

async function setMetaContexts(
  link: Link,
  exportName: string,
  queries: readonly string[],
  agreed: Map<string, number>,
): Promise<void> {
  const data = encodeMetaContextRequest(exportName, queries);
  await link.send([encodeOption(OPT.SET_META_CONTEXT, data)]);
  for (;;) {
    const reply = await optionReply(link, OPT.SET_META_CONTEXT);
    if (reply.type === REP.META_CONTEXT) {
      const context = parseMetaContextReply(reply.data);
      if (context) agreed.set(context.name, context.id);
      continue;
    }
    return; // ACK, or an error: either way no (more) contexts
  }
}

/** INFO/GO replies up to the ACK: what they told of the export. */
async function collectInfo(
  link: Link,
  option: number,
): Promise<
  | { size: Offset; flags: number; blockSizes?: BlockSizes; description?: string }
  | "unsupported"
> {
  let size: Offset | undefined;
  let flags = 0;
  let blockSizes: BlockSizes | undefined;
  let description: string | undefined;
  for (;;) {
    const reply = await optionReply(link, option);
    if (reply.type === REP.INFO) {
      const info = parseInfoReply(reply.data);
      if (info?.info === INFO.EXPORT) ({ size, flags } = info);
      else if (info?.info === INFO.BLOCK_SIZE) blockSizes = info;
      else if (info?.info === INFO.DESCRIPTION) description = info.text;
      continue;
    }
    if (reply.type === REP.ACK) {
      if (size === undefined) {
        throw new HandshakeError(option, reply.type, "no NBD_INFO_EXPORT before the ACK");
      }
      return { size, flags, blockSizes, description };
    }
    if (reply.type === REP.ERR_UNSUP && option === OPT.GO) return "unsupported";
    throw new HandshakeError(option, reply.type, optionErrorText(reply.data));
  }
}

/** NBD_OPT_EXPORT_NAME, for a server without GO: its reply is size and flags, or a close. */
async function exportNameOnly(
  link: Link,
  exportName: string,
  noZeroes: boolean,
  agreed: Omit<Agreement, "size" | "flags">,
): Promise<Agreement> {
  link.codecForPhase.setPhase("export-name", noZeroes);
  await link.send([encodeOption(OPT.EXPORT_NAME, new TextEncoder().encode(exportName))]);
  const reply = await link.nextEvent();
  if (reply.kind !== "export") {
    throw new ConnectionClosedError(`Cannot open export "${exportName}": the server refused it`);
  }
  link.startTransmission();
  return { ...agreed, size: reply.size, flags: reply.flags };
}

/** NBD_OPT_LIST (after STARTTLS when asked): the exports the server names, then ABORT. */
export async function listExports(
  link: Link,
  tls?: HandshakeOptions["tls"],
): Promise<ListedExport[]> {
  const greeting = await link.nextEvent();
  if (greeting.kind === "oldstyle") return [{ name: "", description: "" }];
  await greet(link, greeting);
  if (tls && tls.mode !== "off") await startTls(link, tls);
  await link.send([encodeOption(OPT.LIST)]);
  const exports: ListedExport[] = [];
  for (;;) {
    const reply = await optionReply(link, OPT.LIST);
    if (reply.type === REP.SERVER) {
      const entry = parseServerReply(reply.data);
      if (entry) exports.push(entry);
      continue;
    }
    if (reply.type !== REP.ACK) {
      throw new HandshakeError(OPT.LIST, reply.type, optionErrorText(reply.data));
    }
    await link.send([encodeOption(OPT.ABORT)]);
    return exports;
  }
}
