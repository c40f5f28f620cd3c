import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Compute } from '../../src/compute/backend.js';
import { CELL_TYPES, type ModelConfig } from '../../src/model/config.js';
import { Network } from '../../src/model/network.js';
import { openBackend } from '../support/backends.js';
import { randomCase } from '../support/random-case.js';

// Network refills one set of window-sized arrays once backward is done with
// them: a later window must not see anything of an earlier one.
describe('Network workspace reuse', () => {
  let compute: Compute;
  beforeAll(async () => {
    compute = await openBackend('webasm');
  });
  afterAll(() => compute?.runner.destroy());

  for (const cell of CELL_TYPES) {
    it(`${cell}: a window after another gives what a fresh network gives, bit for bit`, async () => {
      const config: ModelConfig = { cell, vocabSize: 13, embed: 5, hidden: 8, layers: 3, dropout: 0.2 };
      const first = randomCase(config, 3, 5, 41);
      const second = { ...randomCase(config, 3, 5, 42), params: first.params };
      const reused = new Network(compute.runner, config, 3, 5);
      const f1 = await reused.forward(first.params, first.window, first.state, first.masks);
      await reused.backward(f1.trace);
      const f2 = await reused.forward(second.params, second.window, second.state, second.masks);
      const got = await reused.backward(f2.trace);
      const fresh = new Network(compute.runner, config, 3, 5);
      const want = await fresh.forward(second.params, second.window, second.state, second.masks);
      expect(f2.loss).toBe(want.loss);
      expect(Array.from(got)).toEqual(Array.from(await fresh.backward(want.trace)));
    });
  }

  it('two forward passes before their backward passes keep separate arrays', async () => {
    const config: ModelConfig = { cell: 'lstm', vocabSize: 13, embed: 5, hidden: 8, layers: 2, dropout: 0 };
    const a = randomCase(config, 3, 5, 44);
    const b = { ...randomCase(config, 3, 5, 45), params: a.params };
    const net = new Network(compute.runner, config, 3, 5);
    // a workspace in the spare slot first, so a wrong hand-out would share it
    await net.backward((await net.forward(a.params, a.window, a.state)).trace);
    const fa = await net.forward(a.params, a.window, a.state);
    const fb = await net.forward(b.params, b.window, b.state);
    const ga = await net.backward(fa.trace);
    const gb = await net.backward(fb.trace);
    const fresh = (c: typeof a) => {
      const n = new Network(compute.runner, config, 3, 5);
      return n.forward(c.params, c.window, c.state).then((f) => n.backward(f.trace));
    };
    expect(Array.from(ga)).toEqual(Array.from(await fresh(a)));
    expect(Array.from(gb)).toEqual(Array.from(await fresh(b)));
  });

  it('a discarded trace (evaluation) lends its arrays to the next forward, which gives what a fresh network gives; backward refuses it', async () => {
    const config: ModelConfig = { cell: 'lstm', vocabSize: 13, embed: 5, hidden: 8, layers: 2, dropout: 0 };
    const a = randomCase(config, 3, 5, 46);
    const b = { ...randomCase(config, 3, 5, 47), params: a.params };
    const net = new Network(compute.runner, config, 3, 5);
    const fa = await net.forward(a.params, a.window, a.state);
    const stateA = fa.state.h.map((h) => Array.from(h));
    net.discard(fa.trace);
    const fb = await net.forward(b.params, b.window, b.state);
    expect(fb.trace.workspace).toBe(fa.trace.workspace);
    // the returned state is the caller's own: refilling the discarded arrays does not touch it
    expect(fa.state.h.map((h) => Array.from(h))).toEqual(stateA);
    const fresh = new Network(compute.runner, config, 3, 5);
    const want = await fresh.forward(b.params, b.window, b.state);
    expect(fb.loss).toBe(want.loss);
    expect(Array.from(await net.backward(fb.trace))).toEqual(Array.from(await fresh.backward(want.trace)));
    await expect(net.backward(fa.trace)).rejects.toThrow(/run forward again/);
  });

  it('refuses a second backward on one trace, whose arrays may have been refilled', async () => {
    const config: ModelConfig = { cell: 'lstm', vocabSize: 13, embed: 5, hidden: 8, layers: 1, dropout: 0 };
    const c = randomCase(config, 2, 3, 43);
    const net = new Network(compute.runner, config, 2, 3);
    const f = await net.forward(c.params, c.window, c.state);
    await net.backward(f.trace);
    await expect(net.backward(f.trace)).rejects.toThrow(/run forward again/);
  });
});
