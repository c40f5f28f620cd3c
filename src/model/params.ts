import { gateCount, layerInputSize, type ModelConfig } from './config.js';
import type { Rng } from './rng.js';

/** One named tensor inside the contiguous parameter buffer. */
export interface ParamSpec {
  /** PyTorch state_dict name, e.g. `rnn.weight_hh_l0`. */
  readonly name: string;
  readonly shape: readonly number[];
  readonly offset: number;
  readonly size: number;
}

/** Where every tensor of a model lives in one flat buffer (llm.c style). */
export interface ParamLayout {
  readonly specs: readonly ParamSpec[];
  readonly total: number;
}

/**
 * Names and shapes follow torch.nn.Embedding / nn.LSTM|GRU|RNN / nn.Linear, with
 * module names embedding / rnn / decoder, so weights can be exchanged with PyTorch.
 */
export function paramLayout(config: ModelConfig): ParamLayout {
  const G = gateCount(config.cell) * config.hidden;
  const H = config.hidden;
  const shapes: [string, number[]][] = [];
  if (config.embed > 0) shapes.push(['embedding.weight', [config.vocabSize, config.embed]]);
  for (let k = 0; k < config.layers; k++) {
    shapes.push([`rnn.weight_ih_l${k}`, [G, layerInputSize(config, k)]]);
    shapes.push([`rnn.weight_hh_l${k}`, [G, H]]);
    shapes.push([`rnn.bias_ih_l${k}`, [G]]);
    shapes.push([`rnn.bias_hh_l${k}`, [G]]);
  }
  shapes.push(['decoder.weight', [config.vocabSize, H]]);
  shapes.push(['decoder.bias', [config.vocabSize]]);
  let offset = 0;
  const specs = shapes.map(([name, shape]) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const spec = { name, shape, offset, size };
    offset += size;
    return spec;
  });
  return { specs, total: offset };
}

/** Named views into a flat buffer laid out by `layout`. */
export function views(layout: ParamLayout, data: Float32Array): Map<string, Float32Array> {
  const m = new Map<string, Float32Array>();
  for (const s of layout.specs) m.set(s.name, data.subarray(s.offset, s.offset + s.size));
  return m;
}

/** The LSTM forget-gate bias charlm starts from unless told otherwise. */
export const DEFAULT_FORGET_BIAS = 1;

/**
 * PyTorch's default initialisation — embedding N(0, 1); recurrent weights and
 * biases U(−1/√H, 1/√H); decoder weight and bias U(−1/√H, 1/√H) — with one
 * deliberate difference: the LSTM forget-gate bias (bias_ih's f block; bias_hh's
 * stays uniform) is set to `forgetBias`, 1 by default, the usual remedy for
 * vanishing memory early in training (Jozefowicz et al., 2015). `null` keeps
 * PyTorch's draw exactly, for like-for-like comparisons.
 */
export function initParams(config: ModelConfig, rng: Rng, forgetBias: number | null = DEFAULT_FORGET_BIAS): Float32Array {
  const layout = paramLayout(config);
  const data = new Float32Array(layout.total);
  const bound = 1 / Math.sqrt(config.hidden);
  for (const s of layout.specs) {
    const view = data.subarray(s.offset, s.offset + s.size);
    if (s.name === 'embedding.weight') {
      for (let i = 0; i < view.length; i++) view[i] = rng.normal();
    } else {
      for (let i = 0; i < view.length; i++) view[i] = rng.between(-bound, bound);
    }
    if (forgetBias !== null && config.cell === 'lstm' && s.name.startsWith('rnn.bias_ih_l')) {
      view.subarray(config.hidden, 2 * config.hidden).fill(forgetBias);
    }
  }
  return data;
}

export function parameterCount(config: ModelConfig): number {
  return paramLayout(config).total;
}
