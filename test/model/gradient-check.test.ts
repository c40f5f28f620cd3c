import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Compute } from '../../src/compute/backend.js';
import { CELL_TYPES, type ModelConfig } from '../../src/model/config.js';
import { Network } from '../../src/model/network.js';
import { views } from '../../src/model/params.js';
import { REQUIRED_BACKENDS, openBackend } from '../support/backends.js';
import { relativeError } from '../support/compare.js';
import { randomCase, type RandomCase } from '../support/random-case.js';
import { finiteDifferenceGradient, referenceLoss } from '../support/reference-model.js';

// Central differences are taken on a float64 reference of the same math, where
// eps = 1e-5 leaves an error near 1e-10 (truncation ~eps², rounding ~1e-16/eps);
// what remains is the kernels' float32 rounding, measured at ≤ 4e-7 per tensor
// (‖Δ‖∞ / ‖g‖∞). The bound 1e-5 leaves room for other float32 summation orders
// while still catching any wrong term, which shows up at 1e-2 or more.
const EPS = 1e-5;
const GRAD_TOLERANCE = 1e-5;
const LOSS_TOLERANCE = 1e-6;

// B = 2 streams over T = 4 steps, time-major: stream 1 resets at t = 0 (the
// carried-in state is dropped) and at the last step, stream 0 mid-window.
const RESETS = Float32Array.from([1, 0, 0, 1, 1, 1, 1, 0]);

const variants: { label: string; layers: number; embed: number; dropout: number }[] = [
  { label: '1 layer', layers: 1, embed: 4, dropout: 0 },
  { label: '2 layers with dropout', layers: 2, embed: 4, dropout: 0.3 },
  { label: '1 layer one-hot', layers: 1, embed: 0, dropout: 0 },
];

for (const backend of REQUIRED_BACKENDS) {
  describe(`gradients on ${backend} match finite differences`, () => {
    let compute: Compute;
    beforeAll(async () => {
      compute = await openBackend(backend);
    });
    afterAll(() => compute?.runner.destroy());

    async function expectGradientsMatch(config: ModelConfig, c: RandomCase): Promise<void> {
      const net = new Network(compute.runner, config, c.B, c.T);
      const forward = await net.forward(c.params, c.window, c.state, c.masks);
      const grads = await net.backward(forward.trace);

      const loss = (p: Float64Array): number => referenceLoss(config, p, c.window, c.state, c.B, c.T, c.masks);
      const exact = Float64Array.from(c.params);
      expect(Math.abs(forward.loss - loss(exact)) / loss(exact)).toBeLessThan(LOSS_TOLERANCE);
      const numeric = finiteDifferenceGradient(exact, loss, EPS);

      const ours = views(net.layout, grads);
      for (const s of net.layout.specs) {
        const err = relativeError(ours.get(s.name)!, numeric.subarray(s.offset, s.offset + s.size));
        expect(err, `${s.name} relative error`).toBeLessThan(GRAD_TOLERANCE);
      }
      expect(compute.runner.executedBackends).toEqual(compute.runner.plannedBackends);
      expect(compute.runner.executedBackends[0]).toBe(backend);
    }

    for (const cell of CELL_TYPES) {
      for (const v of variants) {
        it(`${cell}, ${v.label}`, async () => {
          const config: ModelConfig = { cell, vocabSize: 7, embed: v.embed, hidden: 5, layers: v.layers, dropout: v.dropout };
          await expectGradientsMatch(config, randomCase(config, 2, 3, 11));
        });
      }

      it(`${cell}, 2 layers with dropout and state resets mid-window`, async () => {
        const config: ModelConfig = { cell, vocabSize: 7, embed: 4, hidden: 5, layers: 2, dropout: 0.3 };
        const c = randomCase(config, 2, 4, 13);
        const reset = { ...c, window: { ...c.window, keep: RESETS } };
        // The resets must change the loss, or matching the reference would prove nothing about them.
        const plain = referenceLoss(config, Float64Array.from(c.params), c.window, c.state, c.B, c.T, c.masks);
        const withResets = referenceLoss(config, Float64Array.from(c.params), reset.window, c.state, c.B, c.T, c.masks);
        expect(Math.abs(withResets - plain)).toBeGreaterThan(1e-3);
        await expectGradientsMatch(config, reset);
      });

      it(`${cell}: a keep mask of all ones changes nothing, bit for bit`, async () => {
        const config: ModelConfig = { cell, vocabSize: 7, embed: 4, hidden: 5, layers: 2, dropout: 0 };
        const c = randomCase(config, 2, 4, 17);
        const net = new Network(compute.runner, config, c.B, c.T);
        const plain = await net.forward(c.params, c.window, c.state);
        const kept = await net.forward(c.params, { ...c.window, keep: new Float32Array(c.B * c.T).fill(1) }, c.state);
        expect(kept.loss).toBe(plain.loss);
        expect(await net.backward(kept.trace)).toEqual(await net.backward(plain.trace));
      });
    }
  });
}
