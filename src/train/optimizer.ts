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

/**
 * Elements per optimizer kernel call. Each webasm kernel keeps a WebAssembly
 * memory as large as its arguments, so whole-buffer Adam kernels held about
 * ten parameter-sized copies for the life of the run (≈ 200 MB on the large
 * config); in slices of 2^18 they hold a few MB. A multiple of NORM_CHUNK, so
 * the norm's partial sums, and therefore every result, do not change.
 */
export const OPTIMIZER_SLICE = 1 << 18;

interface SliceKernels {
  readonly sumSquares: KernelSource;
  readonly first: KernelSource;
  readonly second: KernelSource;
  readonly adam: KernelSource;
  readonly velocity: KernelSource;
  readonly sgd: KernelSource;
}

function sliceKernels(n: number): SliceKernels {
  return {
    sumSquares: K.chunkSumSquares(n, NORM_CHUNK),
    first: K.adamFirstMoment(n),
    second: K.adamSecondMoment(n),
    adam: K.adamUpdate(n),
    velocity: K.momentumVelocity(n),
    sgd: K.momentumUpdate(n),
  };
}

/** Global-norm clipping and Adam / SGD-with-momentum updates, all as gpu.js kernels over the flat buffers, slice by slice. */
export class Optimizer {
  private readonly slices: { readonly start: number; readonly end: number; readonly k: SliceKernels }[] = [];

  constructor(
    private readonly runner: KernelRunner,
    readonly config: OptimizerConfig,
    readonly size: number,
    slice: number = OPTIMIZER_SLICE,
  ) {
    // Slices of one length share their compiled kernels: the runner caches kernels by source key.
    for (let start = 0; start < size; start += slice) {
      const end = Math.min(size, start + slice);
      this.slices.push({ start, end, k: sliceKernels(end - start) });
    }
  }

  /** ‖g‖₂ over all parameters (NaN or ∞ when the gradients are). */
  async gradientNorm(grads: Float32Array): Promise<number> {
    let s = 0;
    for (const { start, end, k } of this.slices) {
      const partial = await this.runner.run(k.sumSquares, grads.subarray(start, end));
      for (let i = 0; i < partial.length; i++) s += partial[i];
    }
    return Math.sqrt(s);
  }

  /**
   * One update with learning rate `lr`; gradients are scaled by `clipScale`
   * (min(1, maxNorm/‖g‖) for global-norm clipping) inside the same kernels.
   */
  async update(params: Float32Array, grads: Float32Array, state: OptimizerState, lr: number, clipScale: number): Promise<{ params: Float32Array; state: OptimizerState }> {
    const step = state.step + 1;
    const c = this.config;
    const next = new Float32Array(this.size);
    const first = new Float32Array(this.size);
    const second = c.kind === 'adam' ? new Float32Array(this.size) : null;
    const correction2 = Math.sqrt(1 - c.beta2 ** step);
    const stepSize = (lr * correction2) / (1 - c.beta1 ** step);
    for (const { start, end, k } of this.slices) {
      const part = (a: Float32Array): Float32Array => a.subarray(start, end);
      // Each kernel writes straight into its slice of the new buffers (no fresh array per slice).
      if (c.kind === 'sgd') {
        const velocity = await this.runner.runInto(part(first), k.velocity, part(state.first), part(grads), c.momentum, clipScale);
        await this.runner.runInto(part(next), k.sgd, part(params), velocity, lr);
        continue;
      }
      const m = await this.runner.runInto(part(first), k.first, part(state.first), part(grads), c.beta1, clipScale);
      const v = await this.runner.runInto(part(second!), k.second, part(state.second!), part(grads), c.beta2, clipScale);
      await this.runner.runInto(part(next), k.adam, part(params), m, v, stepSize, c.eps * correction2);
    }
    return { params: next, state: { step, first, second } };
  }
}

/** Scale that brings the gradient norm down to `maxNorm` (no clipping when maxNorm ≤ 0). */
export function clipScale(norm: number, maxNorm: number): number {
  return maxNorm > 0 && norm > maxNorm ? maxNorm / norm : 1;
}
