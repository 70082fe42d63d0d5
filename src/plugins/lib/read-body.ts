/**
 * Copies a fetch response's body into a buffer the server lent, chunk by chunk as it arrives
 * (one copy, no whole-body ArrayBuffer), for plugins whose disk is on a web server. A body
 * longer than the buffer is cut off; the count copied tells a short one.
 */

/** Fills `buf` from the body; resolves to the bytes copied. The rest of a longer body is dropped. */
export async function readBodyInto(response: Response, buf: Uint8Array): Promise<number> {
  if (!response.body) return 0;
  const reader = response.body.getReader();
  let filled = 0;
  try {
    while (filled < buf.length) {
      const { done, value } = await reader.read();
      if (done) return filled;
      const n = Math.min(value.length, buf.length - filled);
      buf.set(n === value.length ? value : value.subarray(0, n), filled);
      filled += n;
    }
    // Full. The body usually ends here: seeing its end lets fetch keep the connection, where
    // cancelling would drop it. Whatever more the server sends is not ours to read.
    const { done } = await reader.read();
    if (!done) await reader.cancel().catch(() => {});
    return filled;
  } finally {
    reader.releaseLock();
  }
}

/** Throws a body away unread, so the connection can be reused or closed. */
export async function discardBody(response: Response): Promise<void> {
  await response.body?.cancel().catch(() => {});
}
