import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Compute } from '../../src/compute/backend.js';
import { CELL_TYPES, type ModelConfig } from '../../src/model/config.js';
import { Network } from '../../src/model/network.js';
import { openBackend } from '../support/backends.js';
import { randomCase } from '../support/random-case.js';

// predict runs each cell step as one kernel (lstmStep, gruStep) built from the
// same expressions as the training kernels. webasm computes in float32
// throughout, so it must give forward's logits and state bit for bit; gpu.js's
// cpu backend keeps a kernel's intermediates in float64 and rounds only what it
// stores, so there the fused kernel's unrounded activations differ in the last
// bits (checked to 1e-6 instead).
function expectSame(got: Float32Array, want: Float32Array, exact: boolean): void {
  if (exact) {
    expect(Array.from(got)).toEqual(Array.from(want));
    return;
  }
  let diff = 0;
  let norm = 0;
  for (let i = 0; i < want.length; i++) {
    diff = Math.max(diff, Math.abs(got[i] - want[i]));
    norm = Math.max(norm, Math.abs(want[i]));
  }
  expect(got.length).toBe(want.length);
  expect(diff / norm).toBeLessThan(1e-6);
}

for (const backend of ['cpu', 'webasm'] as const) {
  const exact = backend === 'webasm';
  describe(`predict on ${backend}`, () => {
    let compute: Compute;
    beforeAll(async () => {
      compute = await openBackend(backend);
    });
    afterAll(() => compute?.runner.destroy());

    for (const cell of CELL_TYPES) {
      for (const [B, T] of [[1, 1], [3, 4]] as const) {
        it(`${cell}, B=${B}, T=${T}: the logits and state of forward${exact ? ', bit for bit' : ''}`, async () => {
          const config: ModelConfig = { cell, vocabSize: 11, embed: 6, hidden: 9, layers: 2, dropout: 0 };
          const c = randomCase(config, B, T, 31);
          const net = new Network(compute.runner, config, B, T);
          const forward = await net.forward(c.params, c.window, c.state);
          const got = await net.predict(c.params, c.window.tokens, c.state);
          expectSame(got.logits, forward.logits, exact);
          got.state.h.forEach((h, l) => expectSame(h, forward.state.h[l], exact));
          expect(got.state.c === null).toBe(forward.state.c === null);
          got.state.c?.forEach((x, l) => expectSame(x, forward.state.c![l], exact));
        });
      }
    }

    it('the first layer through inputTable gives the lookup-then-project bits', async () => {
      for (const cell of CELL_TYPES) {
        const config: ModelConfig = { cell, vocabSize: 11, embed: 6, hidden: 9, layers: 2, dropout: 0 };
        const c = randomCase(config, 3, 2, 33);
        const net = new Network(compute.runner, config, 3, 2);
        const table = await net.inputTable(c.params);
        expect(table).toHaveLength(11 * (cell === 'lstm' ? 4 : cell === 'gru' ? 3 : 1) * 9);
        const plain = await net.predict(c.params, c.window.tokens, c.state);
        const viaTable = await net.predict(c.params, c.window.tokens, c.state, table);
        expect(Array.from(viaTable.logits)).toEqual(Array.from(plain.logits));
        viaTable.state.h.forEach((h, l) => expect(Array.from(h)).toEqual(Array.from(plain.state.h[l])));
      }
    });

    it('a model without an embedding (one-hot input) predicts too', async () => {
      const config: ModelConfig = { cell: 'lstm', vocabSize: 11, embed: 0, hidden: 9, layers: 1, dropout: 0 };
      const c = randomCase(config, 2, 3, 32);
      const net = new Network(compute.runner, config, 2, 3);
      expect(await net.inputTable(c.params)).toBeNull();
      const forward = await net.forward(c.params, c.window, c.state);
      expectSame((await net.predict(c.params, c.window.tokens, c.state)).logits, forward.logits, exact);
    });
  });
}
