import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { charlm } from '../support/cli.js';
import { corpusFile, englishLike } from '../support/corpus.js';

const SMALL = ['--hidden', '64', '--embed', '16', '--batch', '8', '--seq', '32', '--split', '90,10,0', '--sample-every', '0', '--backend', 'cpu', '--json'];

type Event = Record<string, unknown> & { event: string };
const events = (stdout: string): Event[] => stdout.trim().split('\n').map((l) => JSON.parse(l) as Event);

async function timedRun(path: string, out: string, evalEvery: number): Promise<{ steps: number; evals: number; wallMs: number }> {
  const started = performance.now();
  const r = await charlm(['train', path, ...SMALL, '--minutes', '0.2', '--eval-every', String(evalEvery), '--out', out]);
  const wallMs = performance.now() - started;
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const ev = events(r.stdout);
  return { steps: ev.filter((e) => e.event === 'step').length, evals: ev.filter((e) => e.event === 'eval').length, wallMs };
}

describe('--minutes', () => {
  it('counts training time only: validating after every step costs wall time, not steps', async () => {
    // Each validation pass and its saves cost about a step here, so a wall clock would halve the steps.
    const { dir, path } = corpusFile(englishLike(8000));
    const often = await timedRun(path, join(dir, 'often'), 1);
    const rarely = await timedRun(path, join(dir, 'rarely'), 1000);
    expect(often.evals).toBe(often.steps);
    expect(rarely.evals).toBe(1);
    expect(often.wallMs).toBeGreaterThan(rarely.wallMs * 1.4);
    expect(Math.abs(often.steps - rarely.steps) / rarely.steps).toBeLessThan(0.2);
  }, 300_000);
});
