import { describe, expect, it } from 'vitest';
import type { ModelConfig } from '../../src/model/config.js';
import { parameterCount } from '../../src/model/params.js';
import { activationsPerPosition, BYTES_PER_MB, workingSet } from '../../src/model/working-set.js';

const small: ModelConfig = { cell: 'lstm', vocabSize: 65, embed: 64, hidden: 128, layers: 2, dropout: 0 };
const MB = (floats: number): number => (floats * 4) / BYTES_PER_MB;

describe('workingSet', () => {
  it('is four floats per parameter plus the trace of a batch × seq window, written out by hand for LSTM and GRU', () => {
    for (const hidden of [128, 256]) {
      const H = hidden;
      // LSTM per layer: h, h_prev, 4H gates, c, c_prev; then embed, logits and log-sum-exp.
      const lstm = { ...small, hidden };
      expect(activationsPerPosition(lstm)).toBe(2 * (8 * H) + 64 + 65 + 1);
      expect(workingSet(lstm, 32, 64).totalMb).toBeCloseTo(MB(4 * parameterCount(lstm) + 32 * 64 * (16 * H + 130)), 9);
      // GRU per layer: h, h_prev, 3H gates, 3H recurrent projections.
      const gru = { ...small, cell: 'gru' as const, hidden };
      expect(activationsPerPosition(gru)).toBe(2 * (8 * H) + 130);
      expect(workingSet(gru, 32, 64).totalMb).toBeCloseTo(MB(4 * parameterCount(gru) + 32 * 64 * (16 * H + 130)), 9);
    }
  });

  it('grows with hidden size, and its activations grow linearly with the batch while the parameter part stays', () => {
    const a = workingSet(small, 32, 64);
    const wider = workingSet({ ...small, hidden: 256 }, 32, 64);
    expect(wider.paramsMb).toBeGreaterThan(3 * a.paramsMb);
    expect(wider.activationsMb).toBeGreaterThan(1.9 * a.activationsMb);
    const doubled = workingSet(small, 64, 64);
    expect(doubled.activationsMb).toBeCloseTo(2 * a.activationsMb, 9);
    expect(doubled.paramsMb).toBe(a.paramsMb);
    expect(doubled.adamMb).toBe(a.adamMb);
    expect(doubled.totalMb).toBeGreaterThan(a.totalMb);
  });

  it("puts the LSTM above the GRU, and the GRU above the plain RNN, at equal hidden size", () => {
    for (const hidden of [16, 128, 512]) {
      const at = (cell: ModelConfig['cell']): number => workingSet({ ...small, cell, hidden }, 32, 64).totalMb;
      expect(at('lstm')).toBeGreaterThan(at('gru'));
      expect(at('gru')).toBeGreaterThan(at('rnn'));
    }
  });

  it('counts a copy of each masked layer input when there is dropout', () => {
    expect(activationsPerPosition({ ...small, dropout: 0.2 }) - activationsPerPosition(small)).toBe(128);
  });
});
