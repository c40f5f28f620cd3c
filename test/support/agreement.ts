import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Compute } from '../../src/compute/backend.js';
import type { BackendName } from '../../src/compute/probe.js';
import { CELL_TYPES, type ModelConfig } from '../../src/model/config.js';
import { Network } from '../../src/model/network.js';
import { views } from '../../src/model/params.js';
import { openBackend } from './backends.js';
import { relativeError } from './compare.js';
import { randomCase } from './random-case.js';

// Loss and every gradient tensor (‖Δ‖∞ / ‖g‖∞) against the cpu reference backend.
const TOLERANCE = 1e-4;

async function lossAndGrads(compute: Compute, config: ModelConfig) {
  const c = randomCase(config, 4, 6, 5);
  const net = new Network(compute.runner, config, c.B, c.T);
  const forward = await net.forward(c.params, c.window, c.state, c.masks);
  return { loss: forward.loss, grads: views(net.layout, await net.backward(forward.trace)), net };
}

/** A suite checking that `backend` computes what cpu computes, for every cell type. */
export function agreementSuite(backend: BackendName): void {
  describe(`${backend} agrees with cpu`, () => {
    let cpu: Compute;
    let other: Compute;
    beforeAll(async () => {
      cpu = await openBackend('cpu');
      other = await openBackend(backend);
    });
    afterAll(() => {
      cpu?.runner.destroy();
      other?.runner.destroy();
    });

    for (const cell of CELL_TYPES) {
      it(`${cell}: 2 layers, embedding, dropout`, async () => {
        const config: ModelConfig = { cell, vocabSize: 23, embed: 8, hidden: 16, layers: 2, dropout: 0.25 };
        const ref = await lossAndGrads(cpu, config);
        const got = await lossAndGrads(other, config);
        expect(Math.abs(got.loss - ref.loss) / ref.loss).toBeLessThan(TOLERANCE);
        for (const s of ref.net.layout.specs) {
          expect(relativeError(got.grads.get(s.name)!, ref.grads.get(s.name)!), s.name).toBeLessThan(TOLERANCE);
        }
        expect(other.runner.executedBackends).toEqual(other.runner.plannedBackends);
        expect(other.runner.executedBackends[0]).toBe(backend);
      });

      it(`${cell}: predict (one kernel per cell step) gives what cpu gives, and what forward gives`, async () => {
        const config: ModelConfig = { cell, vocabSize: 23, embed: 8, hidden: 16, layers: 2, dropout: 0 };
        const c = randomCase(config, 3, 4, 9);
        const predict = (compute: Compute) => new Network(compute.runner, config, c.B, c.T).predict(c.params, c.window.tokens, c.state);
        const ref = await predict(cpu);
        const got = await predict(other);
        const forward = await new Network(other.runner, config, c.B, c.T).forward(c.params, c.window, c.state);
        expect(relativeError(got.logits, ref.logits)).toBeLessThan(TOLERANCE);
        expect(relativeError(got.logits, forward.logits)).toBeLessThan(TOLERANCE);
        for (let l = 0; l < config.layers; l++) {
          expect(relativeError(got.state.h[l], ref.state.h[l])).toBeLessThan(TOLERANCE);
          expect(relativeError(got.state.h[l], forward.state.h[l])).toBeLessThan(TOLERANCE);
          if (cell === 'lstm') expect(relativeError(got.state.c![l], forward.state.c![l])).toBeLessThan(TOLERANCE);
        }
      });
    }
  });
}
