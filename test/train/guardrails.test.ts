import { describe, expect, it } from 'vitest';
import { DataError } from '../../src/data/errors.js';
import { evalStreams, fitWindows, MIN_WINDOWS_PER_STREAM, windowsPerStream } from '../../src/train/guardrails.js';

const DEFAULT = { batch: 32, seq: 64 };

describe('fitWindows', () => {
  it('leaves a corpus that gives every stream 20 windows alone', () => {
    // 32 streams × (20 · 64 + 1) characters: exactly 20 windows each.
    expect(fitWindows(32 * 1281, 5000, DEFAULT, false)).toBeNull();
    expect(fitWindows(32 * 1281, 5000, DEFAULT, true)).toBeNull();
  });

  it('shrinks batch first, to the most streams that still give 20 windows each', () => {
    const fit = fitWindows(2700, 150, DEFAULT, false)!;
    expect(fit.chosen).toEqual({ batch: 2, seq: 64 });
    expect(fit.windowsPerStream).toBe(21);
    expect(windowsPerStream(2700, 3, 64)).toBeLessThan(MIN_WINDOWS_PER_STREAM);
    expect(fit.note).toBe(
      'Small corpus: the training split (2,700 characters) gives 1 window per stream at --batch 32 --seq 64, fewer than 20, so this run uses --batch 2 --seq 64 (21 windows per stream); --strict refuses instead.',
    );
  });

  it('then shortens seq with one stream, to the longest that gives 20 windows, but not below 8', () => {
    expect(fitWindows(900, 50, DEFAULT, false)!.chosen).toEqual({ batch: 1, seq: 44 });
    expect(windowsPerStream(900, 1, 44)).toBe(20);
    expect(windowsPerStream(900, 1, 45)).toBe(19);
    // 100 characters give 20 windows only of 4; the floor of 8 gives fewer windows instead.
    expect(fitWindows(100, 0, DEFAULT, false)!.chosen).toEqual({ batch: 1, seq: 8 });
    // A requested seq under the floor is kept as it is.
    expect(fitWindows(100, 0, { batch: 4, seq: 5 }, false)!.chosen).toEqual({ batch: 1, seq: 5 });
  });

  it('refuses a training split that cannot hold one window of one stream', () => {
    expect(() => fitWindows(8, 0, DEFAULT, false)).toThrow(
      new DataError('The training split has 8 characters, fewer than the 9 that one window of 1 stream × 9 characters needs; use a longer corpus.'),
    );
  });

  it('with --strict refuses in one sentence, naming what it would have chosen', () => {
    expect(() => fitWindows(2700, 150, DEFAULT, true)).toThrow(
      new DataError(
        'The training split has 2,700 characters, which gives 1 window per stream at --batch 32 --seq 64 where 20 are needed; choose a smaller --batch or --seq (without --strict charlm would use --batch 2 --seq 64).',
      ),
    );
  });

  it('scores a validation split shorter than one window along fewer streams, and says so', () => {
    const fit = fitWindows(32 * 1281, 1000, DEFAULT, false)!;
    expect(fit.chosen).toEqual(DEFAULT);
    expect(fit.valStreams).toBe(15);
    expect(fit.note).toBe(
      'Small corpus: the validation split (1,000 characters) is shorter than one window of 32 × 64, so it is scored along 15 streams; --strict refuses instead.',
    );
    expect(() => fitWindows(32 * 1281, 1000, DEFAULT, true)).toThrow(/^The validation split has 1,000 characters, shorter than one window of --batch 32 × --seq 64 \(2,048\); /);
    // No validation split at all (--split 100,0,0) is a choice, not a small corpus.
    expect(fitWindows(32 * 1281, 0, DEFAULT, true)).toBeNull();
  });
});

describe('evalStreams', () => {
  it("is the run's batch when the split holds a whole window, else as many streams as hold a full seq, at least one", () => {
    expect(evalStreams(32, 64, 2048)).toBe(32);
    expect(evalStreams(32, 64, 2047)).toBe(31);
    expect(evalStreams(32, 64, 63)).toBe(1);
    expect(evalStreams(4, 16, 1)).toBe(1);
  });
});
