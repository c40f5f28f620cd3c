import { describe, expect, it } from 'vitest';
import { parameterCount } from '../../src/model/params.js';
import { matchHidden, PARAM_TOLERANCE, reportRows, type RunResult } from '../../src/train/compare.js';

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

function result(cell: 'lstm' | 'gru', seed: number, valLoss: number | null, error: string | null = null): RunResult {
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
    wallMs: 1000,
    best: null,
    stopped: false,
    error,
    curve: [],
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
