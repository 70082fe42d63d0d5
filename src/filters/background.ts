/**
 * Work a filter does beside the requests (readahead's and scan's prefetches), as nbdkit does it
 * in a thread of its own: each step waits for the next turn of the event loop first, so that
 * requests, replies and socket I/O that are ready go before it, and a plugin that answers
 * synchronously cannot hold the loop for a whole scan.
 */

/** Resolves on a later turn of the event loop (a timer task), after what is ready now. */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
