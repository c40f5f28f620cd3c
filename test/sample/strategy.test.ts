import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/model/rng.js';
import { logSoftmax, probabilityOrder, softmax } from '../../src/sample/strategy.js';

describe('softmax at a temperature', () => {
  const logits = Float32Array.of(2.5, -1, 0.25, 7, -30, 3);

  it('at temperature 1 is exp of logSoftmax, and sums to 1', () => {
    const p = softmax(logits, 1);
    const lp = logSoftmax(logits);
    p.forEach((v, i) => expect(v).toBeCloseTo(Math.exp(lp[i]), 7));
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
  });

  it('divides the logits by the temperature', () => {
    const cooled = softmax(logits, 1 / 0.5);
    const doubled = softmax(logits.map((x) => 2 * x), 1);
    cooled.forEach((v, i) => expect(v).toBeCloseTo(doubled[i], 7));
    // cooler is peakier
    expect(cooled[3]).toBeGreaterThan(softmax(logits, 1)[3]);
  });

  it('does not overflow on large logits', () => {
    const p = softmax(Float32Array.of(1000, 999, -1000), 1);
    expect(p[0]).toBeCloseTo(1 / (1 + Math.exp(-1)), 6);
    expect(p[2]).toBe(0);
    expect(p.every(Number.isFinite)).toBe(true);
  });
});

describe('probabilityOrder', () => {
  it('is the comparator order (falling probability, ties by rising id), ties and zeros included', () => {
    const gen = Rng.seeded(7);
    for (let trial = 0; trial < 300; trial++) {
      const V = 1 + Math.floor(gen.uniform() * 80);
      // few distinct values, so ties are common; some exact zeros and a negative zero
      const probs = Float32Array.from({ length: V }, () => (gen.uniform() < 0.2 ? 0 : Math.ceil(gen.uniform() * 5) / 17));
      if (trial % 7 === 0) probs[V - 1] = -0;
      const want = Array.from(probs.keys()).sort((a, b) => probs[b] - probs[a] || a - b);
      expect(Array.from(probabilityOrder(probs))).toEqual(want);
    }
  });
});
