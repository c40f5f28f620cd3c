import { describe, expect, it } from 'vitest';
import { paramLayout } from '../../src/model/params.js';
import { BENCH_CONFIGS, BENCH_VOCAB } from '../../src/train/bench.js';
import { charlm } from '../support/cli.js';

describe('charlm bench', () => {
  it('prints one JSON line with the measured step and the backend that ran', async () => {
    const r = await charlm(['bench', '--config', 'small', '--cell', 'gru', '--backend', 'cpu', '--steps', '1', '--warmup', '0', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const out = JSON.parse(lines[0]) as Record<string, unknown>;
    expect(Object.keys(out).sort()).toEqual(['backend', 'cell', 'charsPerSec', 'config', 'params', 'rssMb', 'stepMs']);
    const s = BENCH_CONFIGS.small;
    const expected = paramLayout({ cell: 'gru', vocabSize: BENCH_VOCAB, embed: s.embed, hidden: s.hidden, layers: s.layers, dropout: 0 }).total;
    expect(out).toMatchObject({ cell: 'gru', config: 'small', backend: 'cpu', params: expected });
    expect(out.charsPerSec).toBeCloseTo((s.batch * s.seq * 1000) / (out.stepMs as number), -1);
    expect(out.rssMb).toBeGreaterThan(0);
  });

  it('refuses an unknown configuration with one clear message', async () => {
    const r = await charlm(['bench', '--config', 'huge']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/config.*huge.*small/s);
    expect(r.stderr).not.toMatch(/\bat .*\.ts:\d+/);
  });
});
