import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Compute } from '../../src/compute/backend.js';
import { deviceTraffic, trafficPer } from '../../src/compute/device-traffic.js';
import * as K from '../../src/compute/kernel-sources.js';
import type { CellType } from '../../src/model/config.js';
import { initParams } from '../../src/model/params.js';
import { Rng } from '../../src/model/rng.js';
import { zeroState } from '../../src/model/state.js';
import { beamSearch } from '../../src/sample/beam.js';
import { Sampler } from '../../src/sample/sampler.js';
import { BENCH_CONFIGS, benchModel } from '../../src/train/bench.js';
import { DEFAULT_OPTIMIZER, initialOptimizerState } from '../../src/train/optimizer.js';
import { ResidentTrainStep } from '../../src/train/resident-step.js';
import { openBackend, webgpuAvailable } from '../support/backends.js';

// Round trips counted on whatever adapter answers (Dawn on Mesa llvmpipe in CI):
// the counter wraps Dawn's GPUQueue.submit / writeBuffer and GPUBuffer.mapAsync.
const gpu = await webgpuAvailable();

describe.skipIf(!gpu)('host ↔ device traffic on webgpu', () => {
  let webgpu: Compute;
  beforeAll(async () => {
    webgpu = await openBackend('webgpu');
  });
  afterAll(() => webgpu?.runner.destroy());

  it('the counter sees a per-kernel call: one upload, one submit, one readback', async () => {
    const before = deviceTraffic();
    await webgpu.runner.run(K.multiply(1000), new Float32Array(1000).fill(2), new Float32Array(1000).fill(3));
    const d = trafficPer(before, deviceTraffic(), 1);
    expect(d.readbacks).toBeGreaterThanOrEqual(1);
    expect(d.submits).toBeGreaterThanOrEqual(1);
    expect(d.uploadBytes).toBeGreaterThanOrEqual(8000);
  });

  for (const cell of ['lstm', 'gru'] as CellType[]) {
    it(`a medium ${cell} training step after warm-up: ≤ 1 readback, ≤ 2 submits, ≤ 64 KB uploaded`, async () => {
      const c = BENCH_CONFIGS.medium;
      const model = benchModel('medium', cell);
      const rng = Rng.seeded(2);
      const N = c.batch * c.seq;
      const ids = (): Float32Array => Float32Array.from({ length: N }, () => Math.floor(rng.uniform() * model.vocabSize));
      const window = () => ({ tokens: ids(), targets: ids(), weights: new Float32Array(N).fill(1 / N) });
      const params = initParams(model, rng);
      const step = new ResidentTrainStep(webgpu.runner, model, c.batch, c.seq, DEFAULT_OPTIMIZER);
      step.load(params, initialOptimizerState(DEFAULT_OPTIMIZER, params.length), zeroState(model, c.batch));
      await step.run(window(), null, 2e-3, 5);
      const before = deviceTraffic();
      const r = await step.run(window(), null, 2e-3, 5);
      const d = trafficPer(before, deviceTraffic(), 1);
      expect(r.applied).toBe(true);
      expect(step.executorKind).toBe('fused-encoder');
      expect(d.readbacks).toBeLessThanOrEqual(1);
      expect(d.submits).toBeLessThanOrEqual(2);
      expect(d.uploadBytes).toBeLessThanOrEqual(64 * 1024);
      step.destroy();
    }, 600_000);
  }

  it('a sampled symbol: ≤ 1 readback, and the same symbols as cpu for the same seed', async () => {
    const model = benchModel('small', 'lstm');
    const params = initParams(model, Rng.seeded(4));
    const opts = () => ({ temperature: 1, topK: 0, topP: 1 });
    const draw = async (compute: Compute, length: number): Promise<number[]> => {
      const out: number[] = [];
      for await (const id of new Sampler(compute.runner, model).generate(params, Int32Array.of(1, 2), length, opts, Rng.seeded(9))) out.push(id);
      return out;
    };
    await draw(webgpu, 2);
    const before = deviceTraffic();
    const got = await draw(webgpu, 30);
    const d = trafficPer(before, deviceTraffic(), 2 + 29);
    expect(d.readbacks).toBeLessThanOrEqual(1);
    const cpu = await openBackend('cpu');
    expect(got).toEqual(await draw(cpu, 30));
    cpu.runner.destroy();
  });

  // An LSTM forks c as well as h; a GRU with a document start zeroes rows mid-search.
  for (const [cell, documentStart] of [['lstm', null], ['gru', 0]] as const) {
    it(`a ${cell} beam search${documentStart === null ? '' : ' across a document start'}: ≤ 1 readback per step for all beams, the cpu's continuation`, async () => {
      const model = { ...benchModel('small', cell), hidden: 32, embed: 16, vocabSize: 12 };
      const params = initParams(model, Rng.seeded(6));
      const prime = Int32Array.of(3, 0, 5);
      const search = { width: 4, length: 16, documentStart, ended: (ids: readonly number[]) => ids[ids.length - 1] === 7 };
      await beamSearch(webgpu.runner, model, params, prime, { ...search, length: 1 });
      const before = deviceTraffic();
      const got = await beamSearch(webgpu.runner, model, params, prime, search);
      const d = deviceTraffic();
      // one readback per beam step at most: the prime's symbols, then one per symbol drawn
      expect(d.readbacks - before.readbacks).toBeGreaterThan(0);
      expect(d.readbacks - before.readbacks).toBeLessThanOrEqual(prime.length + search.length);
      const cpu = await openBackend('cpu');
      const want = await beamSearch(cpu.runner, model, params, prime, search);
      cpu.runner.destroy();
      expect(got.map((x) => x.id)).toEqual(want.map((x) => x.id));
      for (let i = 0; i < got.length; i++) expect(got[i].logProb).toBeCloseTo(want[i].logProb, 4);
      expect(got.length).toBeGreaterThan(2);
    }, 300_000);
  }
});
