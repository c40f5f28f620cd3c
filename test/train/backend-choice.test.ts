import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { chooseBetween } from '../../src/train/backend-choice.js';
import { openBackend, webgpuAvailable } from '../support/backends.js';

// On a machine with a hardware GPU, `auto` weighs it against webasm this way; here the
// software adapter stands in for the GPU, which is what the calibration must then find slower.
const gpu = await webgpuAvailable();
const shape = { model: { cell: 'gru' as const, vocabSize: 30, embed: 8, hidden: 32, layers: 1, dropout: 0 }, batch: 8, seq: 16 };

describe.skipIf(!gpu)('auto weighs a GPU against webasm on the run’s own step', () => {
  it('measures both, keeps the faster, caches the answer per machine, shape and version', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'charlm-calibration-')), 'charlm', 'backend-calibration.json');
    const first = await chooseBetween([await openBackend('webgpu'), await openBackend('webasm')], shape, file);
    const cache = JSON.parse(readFileSync(file, 'utf8')) as Record<string, { chosen: string; stepMs: Record<string, number>; seconds: number }>;
    const [key] = Object.keys(cache);
    expect(key).toMatch(/gru:30:8:32:1:8x16$/);
    const c = cache[key];
    expect(Object.keys(c.stepMs).sort()).toEqual(['webasm', 'webgpu']);
    const faster = c.stepMs.webgpu < c.stepMs.webasm ? 'webgpu' : 'webasm';
    expect(c.chosen).toBe(faster);
    expect(first.backend).toBe(faster);
    expect(first.calibration).toMatch(new RegExp(`^auto chose ${faster}: [\\d.]+× \\w+ on this model's step \\(webgpu [\\d.]+ ms, webasm [\\d.]+ ms\\); calibrated [\\d.]+ s$`));
    first.runner.destroy();

    // the same machine and shape again: the cached answer, nothing timed
    const again = await chooseBetween([await openBackend('webgpu'), await openBackend('webasm')], shape, file);
    expect(again.backend).toBe(faster);
    expect(again.calibration).toMatch(/calibrated earlier in [\d.]+ s, cached$/);
    again.runner.destroy();

    // an unreadable cache is measured again and rewritten
    writeFileSync(file, '{not json');
    const fresh = await chooseBetween([await openBackend('webgpu'), await openBackend('webasm')], shape, file);
    expect(fresh.calibration).toMatch(/; calibrated [\d.]+ s$/);
    expect(Object.keys(JSON.parse(readFileSync(file, 'utf8')) as object)).toHaveLength(1);
    fresh.runner.destroy();
  }, 120_000);
});
