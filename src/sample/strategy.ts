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

const NONE: ReadonlySet<number> = new Set();

/** The index of the largest value not in `skip` (the lowest index on ties); −1 when every index is skipped. */
export function argmax(values: ArrayLike<number>, skip: ReadonlySet<number> = NONE): number {
  let best = -1;
  for (let i = 0; i < values.length; i++) if (!skip.has(i) && (best < 0 || values[i] > values[best])) best = i;
  return best;
}

/** log Σ exp(logits), in float64: logits[i] − logSumExp(logits) is symbol i's log-probability at temperature 1. */
export function logSumExp(logits: ArrayLike<number>): number {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += Math.exp(logits[i] - max);
  return max + Math.log(sum);
}

/** Natural-log probabilities of softmax(logits) at temperature 1, in float64 so sums over long texts keep their digits. */
export function logSoftmax(logits: ArrayLike<number>): Float64Array {
  const lse = logSumExp(logits);
  const out = new Float64Array(logits.length);
  for (let i = 0; i < logits.length; i++) out[i] = logits[i] - lse;
  return out;
}

/**
 * Scratch for the temporaries of softmax and probabilityOrder, which run once a
 * sampled symbol: a typed array over 64 bytes is allocated off the V8 heap,
 * 1–20 µs each here.
 */
let scratch = new Float64Array(256);
function scratchFor(n: number): Float64Array {
  if (scratch.length < n) scratch = new Float64Array(n);
  return scratch;
}

/**
 * softmax(logits · invTemperature), computed in float64 on the host: the logits
 * are read back anyway, and a V-wide kernel per symbol cost more in per-call
 * work than the arithmetic (medium LSTM: 31 µs a symbol on webasm).
 */
export function softmax(logits: ArrayLike<number>, invTemperature: number): Float32Array {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]);
  const e = scratchFor(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += e[i] = Math.exp((logits[i] - max) * invTemperature);
  const out = new Float32Array(logits.length);
  for (let i = 0; i < logits.length; i++) out[i] = e[i] / sum;
  return out;
}

/**
 * `probs` with the `banned` ids at probability 0 and the rest scaled back to a
 * sum of 1, so top-p still reads its threshold against a distribution; null
 * when nothing allowed has any probability left.
 */
export function withoutBanned(probs: Float32Array, banned: ReadonlySet<number>): Float32Array | null {
  if (banned.size === 0) return probs;
  const out = probs.slice();
  for (const id of banned) out[id] = 0;
  let total = 0;
  for (let i = 0; i < out.length; i++) total += out[i];
  if (!(total > 0)) return null;
  for (let i = 0; i < out.length; i++) out[i] /= total;
  return out;
}

/**
 * Ids by falling probability, ties by rising id. Each id's key is its
 * probability's float32 bits times 2^16 plus (65535 − id), exact in a float64
 * (bits < 2^31), so a numeric typed-array sort gives the order without a
 * comparator call per comparison (65 ids: ~7 → ~1 µs a symbol). Vocabularies
 * over 65536 ids, or a NaN, take the comparator.
 */
export function probabilityOrder(probs: Float32Array): ArrayLike<number> & Iterable<number> {
  const V = probs.length;
  const bits = new Uint32Array(probs.buffer, probs.byteOffset, V);
  const keys = scratchFor(V).subarray(0, V);
  let plain = V <= 0x10000;
  for (let i = 0; plain && i < V; i++) {
    if (!(probs[i] >= 0)) plain = false;
    keys[i] = (bits[i] & 0x7fffffff) * 0x10000 + (0xffff - i);
  }
  if (!plain) return Array.from(probs.keys()).sort((a, b) => probs[b] - probs[a] || a - b);
  keys.sort();
  const order = new Uint32Array(V);
  for (let i = 0; i < V; i++) order[i] = 0xffff - (keys[V - 1 - i] % 0x10000);
  return order;
}

/**
 * Draws an id from `probs` (already softmaxed at the temperature) after top-k and
 * top-p truncation; ties keep the lower id so a seed always gives the same text.
 */
export function draw(probs: Float32Array, options: SamplingOptions, rng: Rng): number {
  const order = probabilityOrder(probs);
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
  // Rounding can leave u just above 0: take the last kept id that can be drawn at all (a banned id has probability 0).
  let last = keep - 1;
  while (last > 0 && probs[order[last]] === 0) last--;
  return order[last];
}
