import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Compute } from '../../src/compute/backend.js';
import { CELL_TYPES, type ModelConfig } from '../../src/model/config.js';
import { Network } from '../../src/model/network.js';
import { views } from '../../src/model/params.js';
import { DEFAULT_OPTIMIZER, initialOptimizerState } from '../../src/train/optimizer.js';
import { ResidentTrainStep } from '../../src/train/resident-step.js';
import { TrainStep } from '../../src/train/train-step.js';
import type { BackendName } from '../../src/compute/probe.js';
import { openBackend } from './backends.js';
import { relativeError } from './compare.js';
import { randomCase } from './random-case.js';

// Loss and every gradient tensor (‖Δ‖∞ / ‖g‖∞) against the cpu reference backend, as the agreement suites.
const TOLERANCE = 1e-4;

/**
 * The resident step on `backend` against cpu: loss, every gradient, the
 * update and the carried state, for every cell; and the divergence rule's
 * rejections leaving the device's contents as they were. `executorKind` is
 * the gpu.js pipeline executor the backend must have used; without
 * `available` (no adapter on this machine) the suite is skipped.
 */
export function residentStepSuite(backend: BackendName, executorKind: string, available = true): void {
  describe.skipIf(!available)(`the device-resident training step (${backend}) agrees with cpu`, () => {
    let cpu: Compute;
    let device: Compute;
    beforeAll(async () => {
      cpu = await openBackend('cpu');
      device = await openBackend(backend);
    });
    afterAll(() => {
      cpu?.runner.destroy();
      device?.runner.destroy();
    });

    // T = 6 runs as six one-step chunks, T = 19 as chunks of 3, 3, … and a last one of 1 (timeChunks)
    const cases: [string, Partial<ModelConfig>, number, boolean][] = [];
    for (const cell of CELL_TYPES) cases.push([`${cell}: 2 layers, embedding, dropout, document resets, T = 19`, { cell, dropout: 0.25 }, 19, true]);
    cases.push(['lstm: one-hot input, no resets, T = 6', { cell: 'lstm', embed: 0, layers: 1 }, 6, false]);
    cases.push(['gru: one step, T = 1', { cell: 'gru', layers: 1 }, 1, false]);

    for (const [name, overrides, T, resets] of cases) {
      it(name, async () => {
        const config: ModelConfig = { cell: 'lstm', vocabSize: 23, embed: 8, hidden: 16, layers: 2, dropout: 0, ...overrides };
        const c = randomCase(config, 4, T, 5);
        // positions 5, 14 and 37 start a document: their streams' state is reset there
        const window = resets ? { ...c.window, keep: Float32Array.from(c.window.tokens, (_, i) => (i === 5 || i === 14 || i === 37 ? 0 : 1)) } : c.window;
        const net = new Network(cpu.runner, config, c.B, c.T);
        const forward = await net.forward(c.params, window, c.state, c.masks);
        const ref = views(net.layout, await net.backward(forward.trace));

        const step = new ResidentTrainStep(device.runner, config, c.B, c.T, DEFAULT_OPTIMIZER, true);
        step.load(c.params, initialOptimizerState(DEFAULT_OPTIMIZER, c.params.length), c.state);
        const got = await step.run(window, c.masks, 1e-3, 5);
        expect(step.executorKind).toBe(executorKind);
        expect(Math.abs(got.loss - forward.loss) / forward.loss).toBeLessThan(TOLERANCE);
        const grads = views(net.layout, got.grads!);
        for (const s of net.layout.specs) expect(relativeError(grads.get(s.name)!, ref.get(s.name)!), s.name).toBeLessThan(TOLERANCE);

        // the update and the carried state, against the host-side optimizer
        const host = await new TrainStep(cpu.runner, config, c.B, c.T, DEFAULT_OPTIMIZER).run(
          c.params, initialOptimizerState(DEFAULT_OPTIMIZER, c.params.length), window, c.state, c.masks, 1e-3, 5);
        const back = await step.read();
        expect(relativeError(back.params, host.params)).toBeLessThan(TOLERANCE);
        expect(relativeError(back.optimizer.first, host.optimizer.first)).toBeLessThan(TOLERANCE);
        expect(back.optimizer.step).toBe(1);
        for (let l = 0; l < config.layers; l++) {
          expect(relativeError(back.state.h[l], host.state.h[l])).toBeLessThan(TOLERANCE);
          if (config.cell === 'lstm') expect(relativeError(back.state.c![l], host.state.c![l])).toBeLessThan(TOLERANCE);
        }
        step.destroy();
      });
    }
  });

  describe.skipIf(!available)(`a resident step (${backend}) the divergence rule rejects`, () => {
    it('leaves parameters, optimizer memory and state as they were, on the device', async () => {
      const device = await openBackend(backend);
      const config: ModelConfig = { cell: 'gru', vocabSize: 23, embed: 8, hidden: 16, layers: 1, dropout: 0 };
      const c = randomCase(config, 4, 6, 7);
      const step = new ResidentTrainStep(device.runner, config, c.B, c.T, DEFAULT_OPTIMIZER);
      step.load(c.params, initialOptimizerState(DEFAULT_OPTIMIZER, c.params.length), c.state);
      // a loss limit below any loss: the host's "loss exceeded" rule
      const rejected = await step.run(c.window, null, 1e-3, 5, 1e-3);
      expect(rejected.applied).toBe(false);
      let back = await step.read();
      expect(back.params).toEqual(c.params);
      expect(back.state.h[0]).toEqual(c.state.h[0]);
      expect(back.optimizer.step).toBe(0);
      // a learning rate that overflows float32: "the update would have made weights infinite"
      const overflow = await step.run(c.window, null, 1e39, 0);
      expect(Number.isFinite(overflow.weightSum)).toBe(false);
      expect(overflow.applied).toBe(false);
      back = await step.read();
      expect(back.params).toEqual(c.params);
      const applied = await step.run(c.window, null, 1e-3, 5);
      expect(applied.applied).toBe(true);
      expect((await step.read()).params).not.toEqual(c.params);
      step.destroy();
      device.runner.destroy();
    });
  });
}
