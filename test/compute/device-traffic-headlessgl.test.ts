import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Compute } from '../../src/compute/backend.js';
import { deviceTraffic, trafficPer } from '../../src/compute/device-traffic.js';
import * as K from '../../src/compute/kernel-sources.js';
import { CELL_TYPES, type ModelConfig } from '../../src/model/config.js';
import { DEFAULT_OPTIMIZER, initialOptimizerState, type OptimizerState } from '../../src/train/optimizer.js';
import { ResidentTrainStep } from '../../src/train/resident-step.js';
import { TrainStep } from '../../src/train/train-step.js';
import type { RecurrentState } from '../../src/model/state.js';
import { openBackend } from '../support/backends.js';
import { relativeError } from '../support/compare.js';
import { randomCase } from '../support/random-case.js';

// headless GL keeps a resident step's carried tensors as textures between
// calls (the gpu.js patch's generic executor): counted here by wrapping the
// context's readPixels and texture uploads.
describe('host ↔ device traffic on headlessgl', () => {
  let gl: Compute;
  let cpu: Compute;
  beforeAll(async () => {
    gl = await openBackend('headlessgl');
    cpu = await openBackend('cpu');
  });
  afterAll(() => {
    gl?.runner.destroy();
    cpu?.runner.destroy();
  });

  it('the counter sees a per-kernel call: its uploads and one readback', async () => {
    await gl.runner.run(K.multiply(1000), new Float32Array(1000).fill(2), new Float32Array(1000).fill(3));
    const before = deviceTraffic();
    await gl.runner.run(K.multiply(1000), new Float32Array(1000).fill(2), new Float32Array(1000).fill(3));
    const d = trafficPer(before, deviceTraffic(), 1);
    expect(d.readbacks).toBeGreaterThanOrEqual(1);
    expect(d.uploadBytes).toBeGreaterThanOrEqual(8000);
  });

  for (const cell of CELL_TYPES) {
    it(`${cell}: five resident steps read back one texture each, upload only the window, and end where five cpu steps do`, async () => {
      const config: ModelConfig = { cell, vocabSize: 23, embed: 8, hidden: 16, layers: 2, dropout: 0 };
      const c = randomCase(config, 4, 7, 11);
      const start = initialOptimizerState(DEFAULT_OPTIMIZER, c.params.length);
      const step = new ResidentTrainStep(gl.runner, config, c.B, c.T, DEFAULT_OPTIMIZER);
      step.load(c.params, start, c.state);
      const host = new TrainStep(cpu.runner, config, c.B, c.T, DEFAULT_OPTIMIZER);
      let params = c.params;
      let optimizer: OptimizerState = start;
      let state: RecurrentState = c.state;
      await step.run(c.window, null, 1e-2, 5);
      ({ params, optimizer, state } = await host.run(params, optimizer, c.window, state, null, 1e-2, 5));
      const before = deviceTraffic();
      for (let s = 0; s < 4; s++) {
        const r = await step.run(c.window, null, 1e-2, 5);
        expect(r.applied).toBe(true);
        ({ params, optimizer, state } = await host.run(params, optimizer, c.window, state, null, 1e-2, 5));
      }
      const d = trafficPer(before, deviceTraffic(), 4);
      expect(step.executorKind).toBe('generic');
      expect(d.readbacks).toBeLessThanOrEqual(1);
      // ids, targets, weights and keep of a 4 × 7 window: 448 bytes; the parameters alone are 20 KB
      expect(d.uploadBytes).toBeLessThanOrEqual(1024);
      const back = await step.read();
      expect(back.optimizer.step).toBe(5);
      expect(relativeError(back.params, params)).toBeLessThan(1e-4);
      expect(relativeError(back.optimizer.first, optimizer.first)).toBeLessThan(1e-4);
      expect(relativeError(back.state.h[1], state.h[1])).toBeLessThan(1e-4);
      step.destroy();
    });
  }

  it('a new state from the host replaces the carried one', async () => {
    const config: ModelConfig = { cell: 'gru', vocabSize: 23, embed: 8, hidden: 16, layers: 1, dropout: 0 };
    const c = randomCase(config, 4, 5, 3);
    const step = new ResidentTrainStep(gl.runner, config, c.B, c.T, DEFAULT_OPTIMIZER);
    step.load(c.params, initialOptimizerState(DEFAULT_OPTIMIZER, c.params.length), c.state);
    await step.run(c.window, null, 1e-2, 5);
    const reset = { h: [new Float32Array(c.B * config.hidden).fill(0.25)], c: null };
    step.setState(reset);
    expect((await step.read()).state.h[0]).toEqual(reset.h[0]);
    await step.run(c.window, null, 1e-2, 5);
    expect((await step.read()).state.h[0]).not.toEqual(reset.h[0]);
    step.destroy();
  });
});
