import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend, type Compute } from '../../src/compute/backend.js';
import type { KernelRunner } from '../../src/compute/kernels.js';
import type { ModelConfig } from '../../src/model/config.js';
import { Network } from '../../src/model/network.js';
import { Rng } from '../../src/model/rng.js';
import { zeroState, type RecurrentState } from '../../src/model/state.js';
import { beamSearch } from '../../src/sample/beam.js';
import { noRepeatNgram } from '../../src/sample/ngram.js';
import { Sampler, type Drawn } from '../../src/sample/sampler.js';
import { logSoftmax } from '../../src/sample/strategy.js';
import { rescore, sum, tinyModel } from './tiny-model.js';

let compute: Compute;
let runner: KernelRunner;

beforeAll(async () => {
  compute = await selectBackend('cpu');
  runner = compute.runner;
});
afterAll(() => compute.runner.destroy());

const PRIME = Int32Array.of(1, 2);

async function greedy(config: ModelConfig, params: Float32Array, length: number): Promise<Drawn[]> {
  const out: Drawn[] = [];
  const sampler = new Sampler(runner, config);
  for await (const d of sampler.generateScored(params, PRIME, length, () => ({ temperature: 0, topK: 0, topP: 1 }), Rng.seeded(1))) out.push(d);
  return out;
}

/** The likeliest continuation of every one of the V^length, by walking the whole tree. */
async function exhaustive(config: ModelConfig, params: Float32Array, length: number): Promise<number> {
  const net = new Network(runner, config, 1, 1);
  const feed = async (id: number, state: RecurrentState) => {
    const tokens = Float32Array.of(id);
    return net.forward(params, { tokens, targets: tokens, weights: new Float32Array(1) }, state);
  };
  let r: { logits: Float32Array; state: RecurrentState } = { logits: new Float32Array(config.vocabSize), state: zeroState(config, 1) };
  for (const id of PRIME) r = await feed(id, r.state);
  const walk = async (logits: Float32Array, state: RecurrentState, left: number): Promise<number> => {
    const lp = logSoftmax(logits);
    let best = -Infinity;
    for (let id = 0; id < config.vocabSize; id++) {
      const rest = left === 1 ? 0 : await feed(id, state).then((n) => walk(n.logits, n.state, left - 1));
      best = Math.max(best, lp[id] + rest);
    }
    return best;
  };
  return walk(r.logits, r.state, length);
}

/**
 * A beam search with the classic bug: when beams fork, each keeps the state
 * of whatever beam had its row before instead of its parent's.
 */
async function beamWithoutForking(config: ModelConfig, params: Float32Array, width: number, length: number): Promise<{ ids: number[]; score: number }> {
  const V = config.vocabSize;
  const net = new Network(runner, config, width, 1);
  const step = (tokens: Float32Array, state: RecurrentState) => net.forward(params, { tokens, targets: tokens, weights: new Float32Array(width) }, state);
  let r: { logits: Float32Array; state: RecurrentState } = { logits: new Float32Array(width * V), state: zeroState(config, width) };
  for (const id of PRIME) r = await step(new Float32Array(width).fill(id), r.state);
  let beams = [{ ids: [] as number[], score: 0 }];
  for (let t = 0; t < length; t++) {
    const candidates = beams.flatMap((b, row) => [...logSoftmax(r.logits.subarray(row * V, (row + 1) * V))].map((lp, id) => ({ ids: [...b.ids, id], score: b.score + lp })));
    candidates.sort((a, b) => b.score - a.score);
    beams = candidates.slice(0, width);
    const tokens = new Float32Array(width);
    beams.forEach((b, row) => (tokens[row] = b.ids[b.ids.length - 1]));
    r = await step(tokens, r.state);
  }
  return beams[0];
}

describe('beam search', () => {
  it.each([1, 2, 3, 4, 5])('finds a continuation at least as likely as greedy decoding, and reports its log-likelihood truly (model seed %i)', async (seed) => {
    const { config, params } = tinyModel(seed);
    const best = await beamSearch(runner, config, params, PRIME, { width: 4, length: 30 });
    const g = await greedy(config, params, 30);
    expect(best).toHaveLength(30);
    expect(sum(best)).toBeGreaterThanOrEqual(sum(g) - 1e-9);
    expect(sum(best)).toBeCloseTo(await rescore(runner, config, params, PRIME, best.map((d) => d.id)), 4);
  });

  it('is greedy decoding at width 1', async () => {
    const { config, params } = tinyModel(7);
    const best = await beamSearch(runner, config, params, PRIME, { width: 1, length: 25 });
    expect(best.map((d) => d.id)).toEqual((await greedy(config, params, 25)).map((d) => d.id));
  });

  it('finds the likeliest continuation of all when the beam holds every prefix', async () => {
    const { config, params } = tinyModel(3, 4);
    // 4 symbols, 4 steps: a beam of 4³ keeps every prefix the last step extends.
    const best = await beamSearch(runner, config, params, PRIME, { width: 64, length: 4 });
    expect(sum(best)).toBeCloseTo(await exhaustive(config, params, 4), 5);
    // A narrow beam is allowed to miss it, never to beat it.
    const narrow = await beamSearch(runner, config, params, PRIME, { width: 2, length: 4 });
    expect(sum(narrow)).toBeLessThanOrEqual(sum(best) + 1e-9);
  });

  it('these checks catch a beam search that does not copy state when beams fork', async () => {
    let caught = 0;
    for (const seed of [1, 2, 3, 4, 5]) {
      const { config, params } = tinyModel(seed);
      const wrong = await beamWithoutForking(config, params, 4, 30);
      const truth = await rescore(runner, config, params, PRIME, wrong.ids);
      if (Math.abs(wrong.score - truth) > 1e-3) caught++;
    }
    expect(caught).toBeGreaterThan(0);
  });

  it('never repeats an n-gram under the repetition guard, and scores what it returns', async () => {
    const { config, params } = tinyModel(2);
    const best = await beamSearch(runner, config, params, PRIME, { width: 3, length: 40, banned: noRepeatNgram(3, null) });
    const text = [...PRIME, ...best.map((d) => d.id)];
    const trigrams = text.slice(2).map((_, i) => text.slice(i, i + 3).join(','));
    expect(new Set(trigrams).size).toBe(trigrams.length);
    expect(sum(best)).toBeCloseTo(await rescore(runner, config, params, PRIME, best.map((d) => d.id)), 4);
  });

  it('returns a continuation that ended early when it beats every open one', async () => {
    const { config, params } = tinyModel(4);
    const free = await beamSearch(runner, config, params, PRIME, { width: 3, length: 20 });
    // Ending at the first symbol free's text has: that one-symbol continuation is likelier than any longer one.
    const first = free[0].id;
    const ended = await beamSearch(runner, config, params, PRIME, { width: 3, length: 20, ended: (ids) => ids[ids.length - 1] === first });
    expect(ended.map((d) => d.id)).toEqual([first]);
  });
});
