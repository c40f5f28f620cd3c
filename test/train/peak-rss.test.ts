import { describe, expect, it } from 'vitest';
import { PeakRss } from '../../src/train/peak-rss.js';

describe('PeakRss', () => {
  it('sees memory the run touches after the baseline, and keeps it as the peak after it is gone', () => {
    const memory = new PeakRss();
    // 64 MB written through, so its pages are resident rather than merely reserved.
    let block: Float32Array | null = new Float32Array(16 * 2 ** 20).fill(1);
    memory.sample();
    expect(block[block.length - 1]).toBe(1);
    block = null;
    const mb = memory.increaseMb();
    expect(mb).toBeGreaterThan(48);
    expect(mb).toBeLessThan(200);
  });

  it('is never negative when the run adds nothing', () => {
    expect(new PeakRss().increaseMb()).toBeGreaterThanOrEqual(0);
  });
});
