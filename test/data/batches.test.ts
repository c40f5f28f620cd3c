import { describe, expect, it } from 'vitest';
import { BatchStream, evalWindows } from '../../src/data/batches.js';
import type { Batch, BatchPosition } from '../../src/data/batches.js';
import { DataError } from '../../src/data/errors.js';

const range = (n: number) => Int32Array.from({ length: n }, (_, i) => i);
const list = (a: ArrayLike<number>) => Array.from(a);

describe('BatchStream', () => {
  it('lays out a tiny example time-major, as worked out by hand', () => {
    // 21 ids, B = 2, T = 3: streams [0..9] and [10..19], id 20 unused; W = floor(9 / 3) = 3.
    const stream = new BatchStream(range(21), 2, 3);
    expect(stream.streamLength).toBe(10);
    expect(stream.windowsPerEpoch).toBe(3);

    const w0 = stream.next();
    expect(list(w0.inputs)).toEqual([0, 10, 1, 11, 2, 12]);
    expect(list(w0.targets)).toEqual([1, 11, 2, 12, 3, 13]);
    expect([w0.epoch, w0.window, w0.resetState]).toEqual([0, 0, true]);

    const w1 = stream.next();
    expect(list(w1.inputs)).toEqual([3, 13, 4, 14, 5, 15]);
    expect(list(w1.targets)).toEqual([4, 14, 5, 15, 6, 16]);
    expect([w1.epoch, w1.window, w1.resetState]).toEqual([0, 1, false]);

    const w2 = stream.next();
    expect(list(w2.inputs)).toEqual([6, 16, 7, 17, 8, 18]);
    expect(list(w2.targets)).toEqual([7, 17, 8, 18, 9, 19]);

    // Stream 0 has one id left (9), not enough for another window: a new epoch starts over.
    expect(stream.position).toEqual({ epoch: 1, window: 0 });
    const again = stream.next();
    expect(list(again.inputs)).toEqual(list(w0.inputs));
    expect([again.epoch, again.window, again.resetState]).toEqual([1, 0, true]);
  });

  it('continues each stream where the previous window stopped', () => {
    const B = 4;
    const T = 5;
    const stream = new BatchStream(range(1000), B, T);
    let previous = stream.next();
    for (let i = 1; i < stream.windowsPerEpoch; i++) {
      const batch = stream.next();
      for (let b = 0; b < B; b++) {
        expect(batch.inputs[b]).toBe(previous.targets[(T - 1) * B + b]);
        for (let t = 0; t < T; t++) expect(batch.targets[t * B + b]).toBe(batch.inputs[t * B + b] + 1);
      }
      previous = batch;
    }
  });

  it('accepts exactly one window of B × (T + 1) ids and refuses one id fewer', () => {
    expect(new BatchStream(range(2 * 4), 2, 3).windowsPerEpoch).toBe(1);
    expect(() => new BatchStream(range(2 * 4 - 1), 2, 3)).toThrow(DataError);
    expect(() => new BatchStream(range(7), 2, 3)).toThrow(
      'The training split has 7 characters, fewer than the 8 that one window of 2 streams × 4 characters needs; use a smaller --batch or --seq or a longer corpus.',
    );
  });

  it.each([
    [0, 3],
    [2, 0],
    [1.5, 3],
    [2, Number.NaN],
  ])('refuses batch %d and sequence length %d', (B, T) => {
    expect(() => new BatchStream(range(100), B, T)).toThrow(DataError);
  });

  it('resumes exactly from a stored position, across an epoch boundary', () => {
    const ids = Int32Array.from({ length: 5000 }, (_, i) => (i * 7919) % 97);
    const original = new BatchStream(ids, 8, 16);
    const W = original.windowsPerEpoch;
    for (let i = 0; i < W - 2; i++) original.next();
    const saved = JSON.parse(JSON.stringify(original.position)) as BatchPosition;
    expect(saved).toEqual({ epoch: 0, window: W - 2 });

    const resumed = new BatchStream(ids, 8, 16);
    resumed.seek(saved);
    const a: Batch[] = [];
    const b: Batch[] = [];
    for (let i = 0; i < W + 3; i++) {
      a.push(original.next());
      b.push(resumed.next());
    }
    expect(b).toEqual(a);
    expect(resumed.position).toEqual(original.position);
    expect(resumed.position).toEqual({ epoch: 2, window: 1 });
    expect(a.filter((x) => x.resetState).map((x) => x.epoch)).toEqual([1, 2]);
  });

  it('refuses to seek to a position that does not exist', () => {
    const stream = new BatchStream(range(21), 2, 3);
    expect(() => stream.seek({ epoch: 0, window: 3 })).toThrow(
      'Cannot resume at window 3 of epoch 0: with this data, batch and sequence length an epoch has only 3 windows.',
    );
    expect(() => stream.seek({ epoch: -1, window: 0 })).toThrow(DataError);
    expect(() => stream.seek({ epoch: 0, window: 1.5 })).toThrow(DataError);
    expect(() => stream.seek({ epoch: 0 } as BatchPosition)).toThrow(DataError);
    expect(stream.position).toEqual({ epoch: 0, window: 0 });
  });
});

describe('evalWindows', () => {
  it('lays out a tiny example with a padded, masked last window, as worked out by hand', () => {
    // 10 ids → 9 targets; B = 2: stream 0 scores ids 1..5 (inputs 0..4), stream 1 scores 6..9 (inputs 5..8).
    const windows = evalWindows(range(10), 2, 3);
    expect(windows.windowCount).toBe(2);
    expect(windows.scoredCount).toBe(9);
    const [w0, w1] = [...windows];
    expect(list(w0.inputs)).toEqual([0, 5, 1, 6, 2, 7]);
    expect(list(w0.targets)).toEqual([1, 6, 2, 7, 3, 8]);
    expect(list(w0.mask)).toEqual([1, 1, 1, 1, 1, 1]);
    expect([w0.index, w0.count, w0.length]).toEqual([0, 6, 3]);
    expect(list(w1.inputs)).toEqual([3, 8, 4, 0, 0, 0]);
    expect(list(w1.targets)).toEqual([4, 9, 5, 0, 0, 0]);
    expect(list(w1.mask)).toEqual([1, 1, 1, 0, 0, 0]);
    expect([w1.index, w1.count, w1.length]).toEqual([1, 3, 2]);
  });

  it('scores every position but the first exactly once, with state that can be carried', () => {
    for (const n of [2, 3, 10, 63, 64, 65, 1000, 1031]) {
      for (const B of [1, 2, 3, 8, 50]) {
        for (const T of [1, 4, 7, 64]) {
          const ids = range(n);
          const windows = evalWindows(ids, B, T);
          const seen = new Uint8Array(n);
          const lastTarget = new Array<number>(B).fill(-1);
          let total = 0;
          let count = 0;
          for (const w of windows) {
            expect(w.inputs).toHaveLength(T * B);
            expect(w.mask.reduce((s, m) => s + m, 0)).toBe(w.count);
            total += w.count;
            count += 1;
            for (let b = 0; b < B; b++) {
              let ended = false;
              for (let t = 0; t < T; t++) {
                const i = t * B + b;
                if (w.mask[i] === 0) {
                  ended = true;
                  continue;
                }
                expect(ended, 'padding only at a stream tail').toBe(false);
                expect(t).toBeLessThan(w.length);
                const target = w.targets[i];
                expect(w.inputs[i]).toBe(target - 1);
                // Within a stream, targets run on without gaps from window to window.
                if (lastTarget[b] >= 0) expect(target).toBe(lastTarget[b] + 1);
                lastTarget[b] = target;
                seen[target] += 1;
              }
            }
          }
          expect(count).toBe(windows.windowCount);
          expect(total).toBe(n - 1);
          expect(windows.scoredCount).toBe(n - 1);
          expect(seen[0]).toBe(0);
          expect(list(seen.subarray(1)).every((s) => s === 1), `n=${n} B=${B} T=${T}`).toBe(true);
        }
      }
    }
  });

  it('can be iterated more than once with the same result', () => {
    const windows = evalWindows(range(100), 3, 8);
    expect([...windows]).toEqual([...windows]);
  });

  it('refuses a split too short to score anything, and bad sizes', () => {
    expect(() => evalWindows(range(1), 2, 3)).toThrow(
      'The evaluation split has 1 characters; at least 2 are needed to score anything.',
    );
    expect(() => evalWindows(range(0), 2, 3)).toThrow(DataError);
    expect(() => evalWindows(range(10), 0, 3)).toThrow(DataError);
    expect(() => evalWindows(range(10), 2, -1)).toThrow(DataError);
  });
});
