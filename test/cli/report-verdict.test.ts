import { describe, expect, it } from 'vitest';
import type { CompareReport } from '../../src/cli/report/report.js';
import { renderVerdict } from '../../src/cli/report/verdict.js';
import { criticalT, welch } from '../../src/cli/report/welch.js';
import type { ReportRow } from '../../src/train/compare.js';

function row(cell: 'lstm' | 'gru' | 'rnn', bpb: number, sd: number | undefined, o: Partial<Record<string, number | null>> = {}): ReportRow {
  return {
    cell,
    tokenizer: 'char',
    hidden: 128,
    params: 240_000,
    seeds: 2,
    reachedTarget: 2,
    runs: [],
    best: false,
    meanValLoss: bpb * Math.LN2,
    meanValPpl: 2 ** bpb,
    meanValBpc: bpb,
    meanValBitsPerByte: bpb,
    meanPplPerBpeToken: null,
    meanCharsPerSec: 1000,
    meanPeakRssMb: 50,
    meanWorkingSetMb: 20,
    meanStepsToTarget: 100,
    meanSecondsToTarget: 10,
    meanTrainMs: 60_000,
    meanWallMs: 70_000,
    ...(sd === undefined ? {} : { sdValBitsPerByte: sd }),
    ...o,
  } as ReportRow;
}

function report(rows: ReportRow[], seeds: number, target: number | null = 2.5): CompareReport {
  return {
    corpus: { name: 'c', source: 'c.txt', bytes: 1 },
    backend: 'cpu',
    match: 'params',
    budget: { steps: 300 },
    model: { layers: 2, hidden: 128, embed: 64 },
    training: { batch: 32, seq: 64, lr: 0.002, evalEvery: 30 },
    seeds,
    bpeEncoding: 'cl100k_base',
    target: { bpc: target, requested: false },
    createdAt: '',
    stopped: false,
    rows,
    runs: [],
  };
}

describe('welch', () => {
  it('gives t and the Welch–Satterthwaite df, judged against the 95% two-sided value', () => {
    const w = welch({ mean: 3, sd: 0.1, n: 2 }, { mean: 2.6, sd: 0.1, n: 2 })!;
    expect(w.t).toBeCloseTo(-0.4 / 0.1, 9);
    expect(w.df).toBeCloseTo(2, 9);
    expect(criticalT(2)).toBe(4.303);
    expect(w.significant).toBe(false);
    expect(welch({ mean: 3, sd: 0.01, n: 5 }, { mean: 2.6, sd: 0.01, n: 5 })!.significant).toBe(true);
    expect(welch({ mean: 3, sd: 0.1, n: 1 }, { mean: 2.6, sd: 0.1, n: 2 })).toBeNull();
  });
});

describe('renderVerdict', () => {
  it('names the best row on quality, speed, memory and time to target from the numbers', () => {
    const text = renderVerdict(
      report(
        [
          row('lstm', 3.0, 0.015, { meanCharsPerSec: 2000, meanPeakRssMb: 80, meanWorkingSetMb: 30, meanSecondsToTarget: 40, meanStepsToTarget: 300 }),
          row('gru', 2.64, 0.012, { meanCharsPerSec: 2500, meanPeakRssMb: 60, meanWorkingSetMb: 25, meanSecondsToTarget: 20, meanStepsToTarget: 180 }),
          row('rnn', 2.7, 0.007, { meanCharsPerSec: 4000, meanPeakRssMb: 40, meanWorkingSetMb: 10, meanSecondsToTarget: 25, meanStepsToTarget: 250 }),
        ],
        2,
      ),
    );
    expect(text).toMatch(/^Verdict: Best on quality: \*\*gru\*\* at 2\.6400 validation bits per byte, against \*\*rnn\*\*'s 2\.7000; a difference of 0\.0600, /);
    expect(text).toContain('Welch t = ');
    expect(text).toContain('Fastest: **rnn** at 4000 training chars/s (1.60× **gru**).');
    expect(text).toContain('Least memory: **rnn**, peak RSS +40.0 MB against **gru**\'s +60.0 MB; its working set from the shapes is also the smallest (10.0 MB).');
    expect(text).toContain("First to the target of 2.5000 bits per character (the worst run's best): **gru** after 20.0 training seconds (step 180), against **rnn**'s 25.0.");
  });

  it('says a lead within one sd does not separate the rows, and that one seed has no spread', () => {
    expect(renderVerdict(report([row('lstm', 2.65, 0.02), row('gru', 2.64, 0.03)], 2))).toContain('within one sd of the seeds (0.0300): the seeds do not separate them');
    expect(renderVerdict(report([row('lstm', 2.65, undefined), row('gru', 2.64, undefined)], 1))).toContain('from one seed, whose spread is unknown');
  });

  it('names rows that did not reach the target on every seed, says when none did, and calls equal memory a tie', () => {
    const missed = row('lstm', 2.9, 0.01, { meanSecondsToTarget: null, meanStepsToTarget: null });
    expect(renderVerdict(report([missed, row('gru', 2.6, 0.01)], 2))).toContain('**lstm** did not reach it on every seed');
    const none = row('gru', 2.6, 0.01, { meanSecondsToTarget: null, meanStepsToTarget: null });
    expect(renderVerdict(report([missed, none], 2))).toContain('Memory: **lstm** and **gru** tie at peak RSS +50.0 MB; by the working set from the shapes **lstm** is smallest (20.0 MB).');
    expect(renderVerdict(report([missed, none], 2))).toContain("No configuration reached the target of 2.5000 bits per character (the worst run's best) on every seed.");
  });
});
