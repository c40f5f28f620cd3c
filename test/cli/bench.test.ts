import { describe, expect, it } from 'vitest';
import { paramLayout } from '../../src/model/params.js';
import { BENCH_CONFIGS, BENCH_VOCAB } from '../../src/train/bench.js';
import { webgpuAvailable } from '../support/backends.js';
import { charlm } from '../support/cli.js';

const gpu = await webgpuAvailable();

describe('charlm bench', () => {
  it('prints one JSON line with the measured step and the backend that ran', async () => {
    const r = await charlm(['bench', '--config', 'small', '--cell', 'gru', '--backend', 'cpu', '--steps', '1', '--warmup', '0', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const out = JSON.parse(lines[0]) as Record<string, unknown>;
    expect(Object.keys(out).sort()).toEqual([
      'backend', 'cell', 'charsPerSec', 'config', 'device', 'gflops', 'params', 'readbacksPerStep', 'residency', 'rssMb', 'stepMs', 'submitsPerStep', 'uploadBytesPerStep',
    ]);
    // nothing lives on a device on cpu
    expect(out).toMatchObject({ residency: 'host', readbacksPerStep: 0, submitsPerStep: 0, uploadBytesPerStep: 0 });
    const s = BENCH_CONFIGS.small;
    const expected = paramLayout({ cell: 'gru', vocabSize: BENCH_VOCAB, embed: s.embed, hidden: s.hidden, layers: s.layers, dropout: 0 }).total;
    expect(out).toMatchObject({ cell: 'gru', config: 'small', backend: 'cpu', params: expected });
    expect(out.charsPerSec).toBeCloseTo((s.batch * s.seq * 1000) / (out.stepMs as number), -1);
    expect(out.rssMb).toBeGreaterThan(0);
    // Small GRU, two layers, N = B·T rows, V < N. Window products: layer 0's input projection as
    // a table of the V vocabulary rows (V·G·E); its gradients through the token one-hot matrix,
    // S = onehotᵀ·dPre (N·V·G), then the input-weight and embedding gradients from S (V·G·E
    // each); layer 1's input projection, input-weight gradient and input gradient (N·G·H each);
    // both layers' recurrent weight gradients (N·G·H each); decoder forward, weight and input
    // gradients (N·V·H each). Per layer: h·W_hhᵀ at every timestep, its gradient at all but the
    // first (B·G·H each).
    const N = s.batch * s.seq;
    const V = BENCH_VOCAB;
    const G = 3 * s.hidden;
    const macs =
      3 * V * G * s.embed + N * V * G + 5 * N * G * s.hidden + 3 * N * V * s.hidden + s.layers * (2 * s.seq - 1) * s.batch * G * s.hidden;
    const expectedGflops = (2 * macs) / (out.stepMs as number) / 1e6;
    expect(Math.abs((out.gflops as number) - expectedGflops)).toBeLessThanOrEqual(expectedGflops * 0.01);
  });

  it('with --sample also reports batch-1 sampling throughput', async () => {
    const r = await charlm(['bench', '--config', 'small', '--backend', 'cpu', '--steps', '1', '--warmup', '0', '--sample', '--sample-chars', '20', '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout.trim()) as Record<string, unknown>;
    expect(out.sampleCharsPerSec).toBeGreaterThan(0);
    expect(out).toMatchObject({ backend: 'cpu', config: 'small', readbacksPerSymbol: 0 });
  });

  it.skipIf(!gpu)('on webgpu reports the round trips it counted: the step stays on the device', async () => {
    const r = await charlm(['bench', '--config', 'small', '--cell', 'lstm', '--backend', 'webgpu', '--steps', '1', '--warmup', '1', '--sample', '--sample-chars', '10', '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, number | string>;
    expect(out.residency).toBe('device');
    expect(out.backend).toMatch(/webgpu fused-encoder pipeline/);
    expect(out.readbacksPerStep).toBeLessThanOrEqual(1);
    expect(out.submitsPerStep).toBeLessThanOrEqual(2);
    expect(out.uploadBytesPerStep).toBeLessThanOrEqual(64 * 1024);
    expect(out.readbacksPerSymbol).toBeLessThanOrEqual(1);
    expect(out.device).toMatch(/Dawn|WebGPU|navigator/);
  }, 300_000);

  it('refuses an unknown configuration with one clear message', async () => {
    const r = await charlm(['bench', '--config', 'huge']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/config.*huge.*small/s);
    expect(r.stderr).not.toMatch(/\bat .*\.ts:\d+/);
  });
});
