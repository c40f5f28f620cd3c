import { describe, expect, it } from 'vitest';
import type { ModelConfig } from '../../src/model/config.js';
import { initParams, paramLayout, views } from '../../src/model/params.js';
import { Rng } from '../../src/model/rng.js';

const lstm: ModelConfig = { cell: 'lstm', vocabSize: 10, embed: 4, hidden: 8, layers: 2, dropout: 0 };

describe('parameter layout and initialisation', () => {
  it('names and shapes follow PyTorch and tile one buffer without gaps', () => {
    const layout = paramLayout(lstm);
    expect(layout.specs.map((s) => `${s.name}:${s.shape.join('x')}`)).toEqual([
      'embedding.weight:10x4',
      'rnn.weight_ih_l0:32x4',
      'rnn.weight_hh_l0:32x8',
      'rnn.bias_ih_l0:32',
      'rnn.bias_hh_l0:32',
      'rnn.weight_ih_l1:32x8',
      'rnn.weight_hh_l1:32x8',
      'rnn.bias_ih_l1:32',
      'rnn.bias_hh_l1:32',
      'decoder.weight:10x8',
      'decoder.bias:10',
    ]);
    let offset = 0;
    for (const s of layout.specs) {
      expect(s.offset).toBe(offset);
      offset += s.size;
    }
    expect(layout.total).toBe(offset);
  });

  it('the LSTM forget-gate bias starts at 1 by default; "pytorch" keeps the uniform draw', () => {
    const bound = 1 / Math.sqrt(lstm.hidden);
    const f = (p: Float32Array, l: number): Float32Array => views(paramLayout(lstm), p).get(`rnn.bias_ih_l${l}`)!.subarray(8, 16);
    const ours = initParams(lstm, Rng.seeded(4));
    expect([...f(ours, 0), ...f(ours, 1)].every((x) => x === 1)).toBe(true);
    const torch = initParams(lstm, Rng.seeded(4), null);
    const drawn = [...f(torch, 0), ...f(torch, 1)];
    expect(drawn.every((x) => Math.abs(x) <= bound && x !== 1)).toBe(true);
    expect(new Set(drawn).size).toBe(drawn.length);
  });
});
