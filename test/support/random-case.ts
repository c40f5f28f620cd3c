import type { ModelConfig } from '../../src/model/config.js';
import type { DropoutMasks, Window } from '../../src/model/network.js';
import { initParams } from '../../src/model/params.js';
import { Rng } from '../../src/model/rng.js';
import type { RecurrentState } from '../../src/model/state.js';

/** A seeded model, window, carried-in state and dropout masks for checks on small shapes. */
export interface RandomCase {
  config: ModelConfig;
  B: number;
  T: number;
  params: Float32Array;
  window: Window;
  state: RecurrentState;
  masks: DropoutMasks | null;
}

export function randomCase(config: ModelConfig, B: number, T: number, seed: number): RandomCase {
  const rng = Rng.seeded(seed);
  const N = B * T;
  const H = config.hidden;
  const params = initParams(config, rng);
  const ids = (): Float32Array => Float32Array.from({ length: N }, () => Math.floor(rng.uniform() * config.vocabSize));
  const window: Window = { tokens: ids(), targets: ids(), weights: new Float32Array(N).fill(1 / N) };
  const layerStates = (): Float32Array[] =>
    Array.from({ length: config.layers }, () => Float32Array.from({ length: B * H }, () => rng.between(-0.5, 0.5)));
  const state: RecurrentState = { h: layerStates(), c: config.cell === 'lstm' ? layerStates() : null };
  let masks: DropoutMasks | null = null;
  if (config.dropout > 0 && config.layers > 1) {
    const keep = 1 - config.dropout;
    masks = Array.from({ length: config.layers - 1 }, () =>
      Float32Array.from({ length: N * H }, () => (rng.uniform() < keep ? 1 / keep : 0)),
    );
  }
  return { config, B, T, params, window, state, masks };
}
