import * as K from '../compute/kernel-sources.js';
import type { KernelSource } from '../compute/kernel-sources.js';
import type { KernelRunner } from '../compute/kernels.js';

export type OptimizerKind = 'adam' | 'sgd';

export interface OptimizerConfig {
  readonly kind: OptimizerKind;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  /** SGD momentum μ. */
  readonly momentum: number;
}

export const DEFAULT_OPTIMIZER: OptimizerConfig = { kind: 'adam', beta1: 0.9, beta2: 0.999, eps: 1e-8, momentum: 0.9 };

/**
 * Per-parameter optimizer memory, laid out like the parameters. Adam keeps both
 * moments; SGD keeps its velocity in `first` and has no `second`.
 */
export interface OptimizerState {
  /** Updates applied so far (Adam's bias correction depends on it). */
  readonly step: number;
  readonly first: Float32Array;
  readonly second: Float32Array | null;
}

export function initialOptimizerState(config: OptimizerConfig, size: number): OptimizerState {
  return { step: 0, first: new Float32Array(size), second: config.kind === 'adam' ? new Float32Array(size) : null };
}

/** Elements per partial sum of squares: few enough partials to add on the host, enough threads to spread. */
const NORM_CHUNK = 256;

/** Global-norm clipping and Adam / SGD-with-momentum updates, all as gpu.js kernels over the flat buffers. */
export class Optimizer {
  private readonly k: {
    sumSquares: KernelSource;
    first: KernelSource;
    second: KernelSource;
    adam: KernelSource;
    velocity: KernelSource;
    sgd: KernelSource;
  };

  constructor(
    private readonly runner: KernelRunner,
    readonly config: OptimizerConfig,
    readonly size: number,
  ) {
    this.k = {
      sumSquares: K.chunkSumSquares(size, NORM_CHUNK),
      first: K.adamFirstMoment(size),
      second: K.adamSecondMoment(size),
      adam: K.adamUpdate(size),
      velocity: K.momentumVelocity(size),
      sgd: K.momentumUpdate(size),
    };
  }

  /** ‖g‖₂ over all parameters (NaN or ∞ when the gradients are). */
  async gradientNorm(grads: Float32Array): Promise<number> {
    const partial = await this.runner.run(this.k.sumSquares, grads);
    let s = 0;
    for (let i = 0; i < partial.length; i++) s += partial[i];
    return Math.sqrt(s);
  }

  /**
   * One update with learning rate `lr`; gradients are scaled by `clipScale`
   * (min(1, maxNorm/‖g‖) for global-norm clipping) inside the same kernels.
   */
  async update(params: Float32Array, grads: Float32Array, state: OptimizerState, lr: number, clipScale: number): Promise<{ params: Float32Array; state: OptimizerState }> {
    const step = state.step + 1;
    const c = this.config;
    if (c.kind === 'sgd') {
      const velocity = await this.runner.run(this.k.velocity, state.first, grads, c.momentum, clipScale);
      return { params: await this.runner.run(this.k.sgd, params, velocity, lr), state: { step, first: velocity, second: null } };
    }
    const first = await this.runner.run(this.k.first, state.first, grads, c.beta1, clipScale);
    const second = await this.runner.run(this.k.second, state.second!, grads, c.beta2, clipScale);
    const correction2 = Math.sqrt(1 - c.beta2 ** step);
    const stepSize = (lr * correction2) / (1 - c.beta1 ** step);
    const next = await this.runner.run(this.k.adam, params, first, second, stepSize, c.eps * correction2);
    return { params: next, state: { step, first, second } };
  }
}

/** Scale that brings the gradient norm down to `maxNorm` (no clipping when maxNorm ≤ 0). */
export function clipScale(norm: number, maxNorm: number): number {
  return maxNorm > 0 && norm > maxNorm ? maxNorm / norm : 1;
}
