/**
 * Who uses which of the ondemand plugin's disks, as nbdkit's whole-file OFD locks say: many
 * readers or one writer per name. A connection that cannot have its lock is refused at once, or
 * with `wait`, queued until the lock is free. Locks are held by this process's connections only;
 * one record per name ever opened is kept (a few bytes each, as many as the files in the dir).
 */

import { ERRNO, NbdError } from "../../api/errors.ts";

interface Holders {
  readers: number;
  writer: boolean;
  /** Connections waiting, in order; each is woken to try again. */
  waiting: (() => void)[];
}

export class DiskLocks {
  private readonly disks = new Map<string, Holders>();

  /** Takes the lock on `name` (shared when `shared`); resolves to what gives it back. */
  async take(name: string, shared: boolean, wait: boolean): Promise<() => void> {
    const holders = this.disks.get(name) ?? { readers: 0, writer: false, waiting: [] };
    this.disks.set(name, holders);
    while (holders.writer || (!shared && holders.readers > 0)) {
      if (!wait) {
        throw new NbdError(ERRNO.EINVAL, `${name}: filesystem is locked by another client`);
      }
      await new Promise<void>((resolve) => holders.waiting.push(resolve));
    }
    if (shared) holders.readers++;
    else holders.writer = true;
    let given = false;
    return () => {
      if (given) return;
      given = true;
      if (shared) holders.readers--;
      else holders.writer = false;
      for (const wake of holders.waiting.splice(0)) wake();
    };
  }
}
