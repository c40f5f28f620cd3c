import type { ModelConfig } from './config.js';

/**
 * Hidden state carried from one window to the next (truncated BPTT): per layer a
 * [B, H] row-major array; `c` only for LSTM.
 */
export interface RecurrentState {
  readonly h: readonly Float32Array[];
  readonly c: readonly Float32Array[] | null;
}

export function zeroState(config: ModelConfig, batch: number): RecurrentState {
  const make = (): Float32Array[] => Array.from({ length: config.layers }, () => new Float32Array(batch * config.hidden));
  return { h: make(), c: config.cell === 'lstm' ? make() : null };
}

export function cloneState(state: RecurrentState): RecurrentState {
  return { h: state.h.map((a) => a.slice()), c: state.c ? state.c.map((a) => a.slice()) : null };
}

