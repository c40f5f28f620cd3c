import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { BYTES_PER_MB } from '../model/working-set.js';

let gc: (() => void) | null = null;

/**
 * A full garbage collection, so a run's baseline holds none of the previous
 * run's garbage (whose release inside the next run would hide what that run
 * adds). Node gives `gc` only to processes started with --expose-gc; setting
 * the flag at run time exposes it to contexts created after. Done on first
 * use, not at import: every command and the library import this module.
 */
function collect(): void {
  if (!gc) {
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as () => void;
  }
  gc();
}

/**
 * The peak resident memory one run adds to this process, over the resident
 * size just before its model exists. Node cannot reset the kernel's lifetime
 * peak (getrusage's maxrss), so the peak is the larger of the resident sizes
 * sampled at the run's events and that lifetime peak when the run raised it
 * (a run that stays below an earlier run's peak is judged by its samples).
 * The first run of a process also carries one-time costs (compiled code,
 * kernel compilers), which later runs find in place.
 */
export class PeakRss {
  private readonly baseline = (collect(), process.memoryUsage.rss());
  private readonly lifetimeBefore = lifetimePeak();
  private peak = this.baseline;

  /** Call often (every step): a sample between steps is the only view of a run below the lifetime peak. */
  sample(): void {
    const rss = process.memoryUsage.rss();
    if (rss > this.peak) this.peak = rss;
  }

  /** MB the run added at its peak; 0 when it never rose above the baseline. */
  increaseMb(): number {
    this.sample();
    const lifetime = lifetimePeak();
    const peak = lifetime > this.lifetimeBefore ? Math.max(this.peak, lifetime) : this.peak;
    return Math.max(0, peak - this.baseline) / BYTES_PER_MB;
  }
}

/** getrusage's maxrss is in kilobytes on Linux and macOS (Node normalises it to KiB). */
const lifetimePeak = (): number => process.resourceUsage().maxRSS * 1024;
