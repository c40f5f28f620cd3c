import type { Rng } from '../model/rng.js';

/** How the next symbol is chosen; read before every symbol, so a change applies to the very next one. */
export interface SamplingOptions {
  /** 0 picks the most likely symbol (greedy); higher flattens the distribution. */
  readonly temperature: number;
  /** Keep only the k most likely symbols; 0 keeps all. */
  readonly topK: number;
  /** Keep the smallest set of most likely symbols whose probability reaches p; 1 keeps all. */
  readonly topP: number;
}

export const DEFAULT_SAMPLING: SamplingOptions = { temperature: 1, topK: 0, topP: 1 };

export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/**
 * Draws an id from `probs` (already softmaxed at the temperature) after top-k and
 * top-p truncation; ties keep the lower id so a seed always gives the same text.
 */
export function draw(probs: Float32Array, options: SamplingOptions, rng: Rng): number {
  const order = Array.from(probs.keys()).sort((a, b) => probs[b] - probs[a] || a - b);
  let keep = options.topK > 0 ? Math.min(options.topK, order.length) : order.length;
  if (options.topP < 1) {
    let mass = 0;
    for (let i = 0; i < keep; i++) {
      mass += probs[order[i]];
      if (mass >= options.topP) {
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
  return order[keep - 1];
}
