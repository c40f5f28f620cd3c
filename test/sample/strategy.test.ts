import { describe, expect, it } from 'vitest';
import { Rng } from '../../src/model/rng.js';
import { draw, logSoftmax, softmax } from '../../src/sample/strategy.js';

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

describe('draw', () => {
  // The order draw walks: falling probability, ties by rising id (what a seed's text depends on).
  function reference(probs: Float32Array, topK: number, topP: number, rng: Rng): number {
    const order = Array.from(probs.keys()).sort((a, b) => probs[b] - probs[a] || a - b);
    let keep = topK > 0 ? Math.min(topK, order.length) : order.length;
    if (topP < 1) {
      let mass = 0;
      for (let i = 0; i < keep; i++) {
        mass += probs[order[i]];
        if (mass >= topP) {
          keep = i + 1;
          break;
        }
      }
    }
    let total = 0;
    for (let i = 0; i < keep; i++) total += probs[order[i]];
    let u = rng.uniform() * total;
    for (let i = 0; i < keep; i++) {
      u -= probs[order[i]];
      if (u < 0) return order[i];
    }
    let last = keep - 1;
    while (last > 0 && probs[order[last]] === 0) last--;
    return order[last];
  }

  it('draws what the comparator-sorted walk draws, ties and zeros included', () => {
    const gen = Rng.seeded(7);
    for (let trial = 0; trial < 300; trial++) {
      const V = 1 + Math.floor(gen.uniform() * 80);
      // few distinct values, so ties are common; some exact zeros
      const raw = Float32Array.from({ length: V }, () => (gen.uniform() < 0.2 ? 0 : Math.ceil(gen.uniform() * 5)));
      if (raw.every((x) => x === 0)) raw[0] = 1;
      const total = raw.reduce((a, b) => a + b, 0);
      const probs = raw.map((x) => x / total);
      const options = { temperature: 1, topK: trial % 3 === 0 ? 3 : 0, topP: trial % 5 === 0 ? 0.6 : 1 };
      const seed = 1000 + trial;
      expect(draw(probs, options, Rng.seeded(seed))).toBe(reference(probs, options.topK, options.topP, Rng.seeded(seed)));
    }
  });
});
