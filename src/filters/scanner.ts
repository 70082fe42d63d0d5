/**
 * One connection's scan for the scan filter: a background loop that caches the disk below
 * piece by piece from where the clock says, moving past what the client has read, and stops
 * between two pieces once finalize asks it to. At most one cache call is running at a time,
 * and each waits for the next turn of the event loop, so requests are never held up.
 */

import type { NextHandle } from "../api/filter.ts";
import { addOffset, bytesBefore, compareOffsets } from "../api/offset.ts";
import type { Offset } from "../api/plugin.ts";
import { nextTurn } from "./background.ts";

/** The filter's parameters, and the clock every connection shares. */
export interface ScanSettings {
  ahead: boolean;
  clock: boolean;
  forever: boolean;
  /** Bytes cached at once. */
  size: number;
  /** The clock: the furthest offset a scan has got to (nbdkit's clock_). */
  reached: Offset;
}

export class Scanner {
  private readonly below: NextHandle;
  private readonly settings: ScanSettings;
  /** The loop, once started. */
  private loop: Promise<void> | undefined;
  private stopping = false;
  /** The furthest end of a read since the loop last looked, if any. */
  private readEnd: Offset | undefined;

  constructor(below: NextHandle, settings: ScanSettings) {
    this.below = below;
    this.settings = settings;
  }

  start(): void {
    this.loop = this.scan();
  }

  /** The client read `count` bytes at `offset`: the scan may skip to their end. */
  readTo(offset: Offset, count: number): void {
    if (this.loop === undefined) return;
    const end = addOffset(offset, count);
    if (this.readEnd === undefined || compareOffsets(end, this.readEnd) > 0) this.readEnd = end;
  }

  /** Stops the loop after the cache call it may be waiting for. */
  async stop(): Promise<void> {
    this.stopping = true;
    await this.loop;
  }

  private async scan(): Promise<void> {
    const settings = this.settings;
    let size: Offset;
    try {
      size = await this.below.getSize();
    } catch {
      return; // nothing to scan without a size (nbdkit's thread ends too)
    }
    if (compareOffsets(size, 0) <= 0) return; // scan-forever would spin on an empty disk
    do {
      let offset: Offset = settings.clock ? settings.reached : 0;
      while (compareOffsets(offset, size) < 0) {
        await nextTurn();
        if (this.stopping) return;
        if (this.readEnd !== undefined) {
          if (compareOffsets(offset, this.readEnd) < 0) offset = this.readEnd;
          this.readEnd = undefined;
        }
        if (compareOffsets(settings.reached, offset) < 0) settings.reached = offset;
        const count = bytesBefore(offset, settings.size, size);
        if (count > 0) await this.cache(count, offset);
        offset = addOffset(offset, settings.size);
      }
      if (settings.forever) settings.reached = 0;
    } while (settings.forever);
  }

  private async cache(count: number, offset: Offset): Promise<void> {
    try {
      await this.below.cache(count, offset, 0);
    } catch {
      // Advisory: nobody to tell (nbdkit ignores these too).
    }
  }
}
