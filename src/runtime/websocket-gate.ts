/**
 * What a fetch-style WebSocket listener (Deno.serve, Bun.serve) answers instead of upgrading:
 * 426 to a request that does not ask for a WebSocket, 403 to one the listener's check refuses
 * (a foreign web page), nothing (undefined) to one it may upgrade. Runtime-neutral.
 */

import { upgradeHeaders } from "../embed/upgrade-policy.ts";
import type { UpgradeCheck } from "../io.ts";

const TEXT = { "content-type": "text/plain" };

export function answerInsteadOfUpgrade(
  request: Request,
  peer: string,
  check: UpgradeCheck,
): Response | undefined {
  if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
    return new Response("NBD over WebSocket only\n", { status: 426, headers: TEXT });
  }
  const { origin, host } = upgradeHeaders(request);
  const refusal = check(origin, host, peer);
  if (refusal === undefined) return undefined;
  return new Response(`Forbidden: ${refusal}\n`, { status: 403, headers: TEXT });
}
