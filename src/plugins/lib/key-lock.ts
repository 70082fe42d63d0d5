/**
 * One lock per key, taken in arrival order: the s3 plugin holds an object's lock across the
 * read, change and write back of a partial write, so two requests touching the same object never
 * lose each other's bytes. A key's entry lives only while someone holds or waits for it.
 */

export interface KeyLock {
  /** Runs `task` once every earlier task for `key` has finished. */
  run<T>(key: string, task: () => Promise<T>): Promise<T>;
}

export function createKeyLock(): KeyLock {
  /** The last task queued for each key: the next one waits for it. */
  const tails = new Map<string, Promise<unknown>>();
  return {
    run(key, task) {
      const before = tails.get(key);
      const mine = (before ?? Promise.resolve()).then(task, task);
      const settled = mine.then(() => {}, () => {});
      tails.set(key, settled);
      void settled.then(() => {
        if (tails.get(key) === settled) tails.delete(key);
      });
      return mine;
    },
  };
}
