import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend, type Compute } from '../../src/compute/backend.js';
import { Rng } from '../../src/model/rng.js';
import { DEFAULT_OPTIMIZER, Optimizer, clipScale, initialOptimizerState, type OptimizerState } from '../../src/train/optimizer.js';
import { relativeError } from '../support/compare.js';

/** torch.optim.Adam's documented update, in float64. */
function torchAdam(p: Float64Array, grads: Float64Array[], lr: number, b1: number, b2: number, eps: number): Float64Array {
  const m = new Float64Array(p.length);
  const v = new Float64Array(p.length);
  const out = p.slice();
  grads.forEach((g, k) => {
    const t = k + 1;
    for (let i = 0; i < p.length; i++) {
      m[i] = b1 * m[i] + (1 - b1) * g[i];
      v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
      const mHat = m[i] / (1 - b1 ** t);
      const vHat = v[i] / (1 - b2 ** t);
      out[i] -= (lr * mHat) / (Math.sqrt(vHat) + eps);
    }
  });
  return out;
}

describe('optimizer kernels', () => {
  let compute: Compute;
  beforeAll(async () => {
    compute = await selectBackend('cpu');
  });
  afterAll(() => compute.runner.destroy());

  const rng = Rng.seeded(3);
  const n = 1000;
  const p0 = Float32Array.from({ length: n }, () => rng.normal());
  const grads = [0, 1, 2].map(() => Float32Array.from({ length: n }, () => rng.normal() * 0.1));

  it('three Adam steps match torch.optim.Adam', async () => {
    const opt = new Optimizer(compute.runner, DEFAULT_OPTIMIZER, n);
    let params: Float32Array = p0;
    let state = initialOptimizerState(DEFAULT_OPTIMIZER, n);
    for (const g of grads) ({ params, state } = await opt.update(params, g, state, 0.01, 1));
    const expected = torchAdam(Float64Array.from(p0), grads.map((g) => Float64Array.from(g)), 0.01, 0.9, 0.999, 1e-8);
    expect(state.step).toBe(3);
    const delta = (a: ArrayLike<number>): number[] => Array.from(a, (x, i) => x - p0[i]);
    expect(relativeError(delta(params), delta(expected))).toBeLessThan(1e-4);
  });

  it('SGD with momentum follows v = μv + g, p = p − lr·v', async () => {
    const config = { ...DEFAULT_OPTIMIZER, kind: 'sgd' as const, momentum: 0.5 };
    const opt = new Optimizer(compute.runner, config, n);
    let params: Float32Array = p0;
    let state = initialOptimizerState(config, n);
    for (const g of grads.slice(0, 2)) ({ params, state } = await opt.update(params, g, state, 0.1, 1));
    const i = 17;
    const v1 = grads[0][i];
    const v2 = 0.5 * v1 + grads[1][i];
    expect(params[i]).toBeCloseTo(p0[i] - 0.1 * v1 - 0.1 * v2, 6);
  });

  it.each(['cpu', 'webasm'] as const)('gives the same bits whole or in slices (and a ragged last slice) on %s', async (backend) => {
    const c = await selectBackend(backend);
    const whole = new Optimizer(c.runner, DEFAULT_OPTIMIZER, n);
    const sliced = new Optimizer(c.runner, DEFAULT_OPTIMIZER, n, 256 * 3);
    type Run = { params: Float32Array; state: OptimizerState };
    let a: Run = { params: p0, state: initialOptimizerState(DEFAULT_OPTIMIZER, n) };
    let b: Run = { params: p0, state: initialOptimizerState(DEFAULT_OPTIMIZER, n) };
    for (const g of grads) {
      expect(await sliced.gradientNorm(g)).toBe(await whole.gradientNorm(g));
      a = await whole.update(a.params, g, a.state, 0.01, 0.7);
      b = await sliced.update(b.params, g, b.state, 0.01, 0.7);
    }
    expect(Array.from(b.params)).toEqual(Array.from(a.params));
    expect(Array.from(b.state.first)).toEqual(Array.from(a.state.first));
    expect(Array.from(b.state.second!)).toEqual(Array.from(a.state.second!));
    const sgd = { ...DEFAULT_OPTIMIZER, kind: 'sgd' as const };
    const s1 = await new Optimizer(c.runner, sgd, n).update(p0, grads[0], initialOptimizerState(sgd, n), 0.1, 1);
    const s2 = await new Optimizer(c.runner, sgd, n, 256).update(p0, grads[0], initialOptimizerState(sgd, n), 0.1, 1);
    expect(Array.from(s2.params)).toEqual(Array.from(s1.params));
    c.runner.destroy();
  });

  it('global norm and clipping scale', async () => {
    const opt = new Optimizer(compute.runner, DEFAULT_OPTIMIZER, n);
    const g = grads[0];
    const norm = Math.sqrt(g.reduce((s, x) => s + x * x, 0));
    expect(await opt.gradientNorm(g)).toBeCloseTo(norm, 5);
    expect(clipScale(norm, norm / 2)).toBeCloseTo(0.5, 12);
    expect(clipScale(norm, norm * 2)).toBe(1);
    const bad = g.slice();
    bad[5] = Number.NaN;
    expect(Number.isNaN(await opt.gradientNorm(bad))).toBe(true);
  });
});
