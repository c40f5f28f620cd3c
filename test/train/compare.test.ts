import { describe, expect, it } from 'vitest';
import { parameterCount } from '../../src/model/params.js';
import { matchHidden, PARAM_TOLERANCE, reportRows, summarize, type CurvePoint, type ScoredRun } from '../../src/train/compare.js';

describe('matchHidden', () => {
  it('finds hidden sizes within 2% of the LSTM at the standard configurations', () => {
    for (const hidden of [128, 256, 512]) {
      const base = { cell: 'lstm' as const, vocabSize: 65, embed: 64, hidden, layers: 2, dropout: 0 };
      const target = parameterCount(base);
      for (const cell of ['gru', 'rnn'] as const) {
        const m = matchHidden(base, cell, target);
        expect(Math.abs(m.params - target) / target).toBeLessThan(PARAM_TOLERANCE);
        expect(m.params).toBe(parameterCount({ ...base, cell, hidden: m.hidden }));
        expect(m.hidden).toBeGreaterThan(hidden);
      }
      expect(matchHidden(base, 'lstm', target).hidden).toBe(hidden);
    }
  });
});

function result(cell: 'lstm' | 'gru', seed: number, valLoss: number | null, error: string | null = null, stepsToTarget: number | null = 10): ScoredRun {
  return {
    run: `${cell}-char-s${seed}`,
    cell,
    tokenizer: 'char',
    seed,
    hidden: 8,
    params: 100,
    vocabSize: 10,
    unseenTokens: null,
    steps: 10,
    bestStep: 10,
    valLoss,
    valPpl: valLoss === null ? null : Math.exp(valLoss),
    valBpc: valLoss === null ? null : valLoss / Math.LN2,
    valBitsPerByte: valLoss === null ? null : valLoss / Math.LN2,
    pplPerBpeToken: null,
    charsPerSec: 1000,
    trainMs: 800,
    wallMs: 1000,
    peakRssMb: 20 + seed,
    workingSetMb: 1.5,
    best: null,
    stopped: false,
    error,
    curve: [],
    stepsToTarget,
    secondsToTarget: stepsToTarget === null ? null : stepsToTarget / 10,
  };
}

describe('reportRows', () => {
  it('gives the mean and the sample sd over seeds, and marks the lowest bits per byte', () => {
    const rows = reportRows([result('lstm', 1, 1), result('gru', 1, 2), result('lstm', 2, 3), result('gru', 2, 2)], 2);
    expect(rows.map((r) => [r.cell, r.meanValLoss, r.sdValLoss, r.best])).toEqual([
      ['lstm', 2, Math.SQRT2, true],
      ['gru', 2, 0, false],
    ]);
    // A metric no run has stays null rather than becoming 0.
    expect(rows[0].meanPplPerBpeToken).toBeNull();
  });

  it('with one seed has no sd fields at all', () => {
    const [row] = reportRows([result('lstm', 1, 1)], 1);
    expect(Object.keys(row).filter((k) => k.startsWith('sd'))).toEqual([]);
  });

  it('leaves a failed run out of the means and says how many seeds are in them', () => {
    const [row] = reportRows([result('lstm', 1, 1), result('lstm', 2, null, 'diverged')], 2);
    expect(row.seeds).toBe(1);
    expect(row.meanValLoss).toBe(1);
    expect(row.sdValLoss).toBeNull();
  });
});

describe('reportRows over memory and time to target', () => {
  it('averages peak RSS and working set over seeds, and gives no time to target unless every seed reached it', () => {
    const [lstm, gru] = reportRows([result('lstm', 1, 1), result('gru', 1, 2, null, null), result('lstm', 2, 3), result('gru', 2, 2)], 2);
    expect([lstm.meanPeakRssMb, lstm.sdPeakRssMb, lstm.meanWorkingSetMb, lstm.sdWorkingSetMb]).toEqual([21.5, Math.SQRT1_2, 1.5, 0]);
    expect([lstm.meanStepsToTarget, lstm.meanSecondsToTarget, lstm.reachedTarget]).toEqual([10, 1, 2]);
    // One gru seed never got there: a mean of the other would flatter the row.
    expect([gru.meanStepsToTarget, gru.sdStepsToTarget, gru.meanSecondsToTarget, gru.reachedTarget]).toEqual([null, null, null, 1]);
  });
});

const point = (step: number, textBpc: number): CurvePoint => ({ step, trainMs: step * 100, wallMs: step * 150, valLoss: textBpc * Math.LN2, valBpc: textBpc, textBpc, valBitsPerByte: textBpc });

describe('summarize', () => {
  const run = (cell: 'lstm' | 'gru', curve: CurvePoint[]) => ({ ...result(cell, 1, 1), curve });
  const lstm = run('lstm', [point(10, 3), point(20, 2.5), point(30, 2.2)]);
  const gru = run('gru', [point(10, 2.8), point(20, 2.0), point(30, 1.9)]);

  it("defaults the target to the worst run's best, which every run reaches", () => {
    const { targetBpc, runs } = summarize([lstm, gru], 1, null);
    expect(targetBpc).toBe(2.2);
    expect(runs[0].stepsToTarget).toBe(30);
    // gru: 2.8 at step 10, 2.0 at 20 → three quarters of the way, step 17.5 rounded either way.
    expect(runs[1].secondsToTarget).toBeCloseTo(1.75, 9);
    expect([17, 18]).toContain(runs[1].stepsToTarget);
  });

  it('interpolates steps and training seconds between the evaluations either side of the crossing', () => {
    const { runs } = summarize([lstm, gru], 1, 2.4);
    // lstm: 2.5 at step 20, 2.2 at 30 → a third of the way: step 23.3, 2.33 s of training.
    expect(runs[0].stepsToTarget).toBe(23);
    expect(runs[0].secondsToTarget).toBeCloseTo(2 + 1 / 3, 9);
    // gru: 2.8 at 10, 2.0 at 20 → halfway.
    expect(runs[1].stepsToTarget).toBe(15);
    expect(runs[1].secondsToTarget).toBeCloseTo(1.5, 9);
  });

  it('takes the first evaluation when it is already below the target, and null when the curve never gets there', () => {
    const { runs } = summarize([lstm, gru], 1, 2.1);
    expect([runs[0].stepsToTarget, runs[0].secondsToTarget]).toEqual([null, null]);
    const easy = summarize([lstm], 1, 5).runs[0];
    expect([easy.stepsToTarget, easy.secondsToTarget]).toEqual([10, 1]);
  });
});
