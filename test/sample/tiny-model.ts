import type { KernelRunner } from '../../src/compute/kernels.js';
import type { ModelConfig } from '../../src/model/config.js';
import { Network } from '../../src/model/network.js';
import { initParams, paramLayout } from '../../src/model/params.js';
import { Rng } from '../../src/model/rng.js';
import { zeroState } from '../../src/model/state.js';
import { logSoftmax } from '../../src/sample/strategy.js';

/**
 * A small random LSTM whose weights are scaled up from PyTorch's initialisation,
 * so its next-symbol distributions are peaked and depend on the state: the
 * choices a decoder makes then matter.
 */
export function tinyModel(seed: number, vocabSize = 6, scale = 3): { config: ModelConfig; params: Float32Array } {
  const config: ModelConfig = { cell: 'lstm', vocabSize, embed: 4, hidden: 8, layers: 1, dropout: 0 };
  const params = initParams(config, Rng.seeded(seed)).map((w) => w * scale);
  return { config, params };
}

/** `params` with decoder bias `bias` on one id, so that id is drawn far more often. */
export function favouring(config: ModelConfig, params: Float32Array, id: number, bias: number): Float32Array {
  const out = params.slice();
  const spec = paramLayout(config).specs.find((s) => s.name === 'decoder.bias')!;
  out[spec.offset + id] += bias;
  return out;
}

/**
 * The model's log-likelihood of `ids` after reading `prime`, one symbol at a
 * time from a zero state (and from a zero state again wherever `resetAt` is
 * read): the reference a decoder's reported score must match.
 */
export async function rescore(
  runner: KernelRunner,
  config: ModelConfig,
  params: Float32Array,
  prime: ArrayLike<number>,
  ids: readonly number[],
  resetAt: number | null = null,
): Promise<number> {
  const net = new Network(runner, config, 1, 1);
  let state = zeroState(config, 1);
  let logits: Float32Array = new Float32Array(config.vocabSize);
  const feed = async (id: number): Promise<void> => {
    const tokens = Float32Array.of(id);
    if (id === resetAt) state = zeroState(config, 1);
    ({ logits, state } = await net.forward(params, { tokens, targets: tokens, weights: new Float32Array(1) }, state));
  };
  for (let i = 0; i < prime.length; i++) await feed(prime[i]);
  let total = 0;
  for (const id of ids) {
    total += logSoftmax(logits)[id];
    await feed(id);
  }
  return total;
}

export const sum = (xs: readonly { logProb: number }[]): number => xs.reduce((a, d) => a + d.logProb, 0);
