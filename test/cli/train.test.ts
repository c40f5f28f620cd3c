import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { CHARLM, charlm } from '../support/cli.js';
import { corpusFile, englishLike } from '../support/corpus.js';

const SMALL = ['--hidden', '24', '--embed', '8', '--batch', '4', '--seq', '16', '--eval-every', '10', '--dropout', '0.2', '--backend', 'cpu', '--json'];

type Event = Record<string, unknown> & { event: string };
const events = (stdout: string): Event[] => stdout.trim().split('\n').map((l) => JSON.parse(l) as Event);

describe('charlm train', () => {
  let corpus: { dir: string; path: string };
  beforeAll(() => {
    corpus = corpusFile(englishLike(6000));
  });

  it('emits start, step, eval, checkpoint events and ends with a done line naming latest and best', async () => {
    const out = join(corpus.dir, 'run-events');
    const r = await charlm(['train', corpus.path, ...SMALL, '--steps', '20', '--out', out, '--sample-every', '10', '--sample-length', '30']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const ev = events(r.stdout);
    expect(ev[0]).toMatchObject({ event: 'start', corpus: 'corpus', batch: 4, seq: 16, totalSteps: 20 });
    expect(String(ev[0].backend)).toMatch(/^cpu/);
    expect(ev.filter((e) => e.event === 'step').map((e) => e.step)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(ev.filter((e) => e.event === 'eval').map((e) => e.step)).toEqual([10, 20]);
    const samples = ev.filter((e) => e.event === 'sample');
    expect(samples.map((e) => [...String(e.text)].length)).toEqual([30, 30]);
    const done = ev[ev.length - 1];
    expect(done).toMatchObject({ event: 'done', step: 20, checkpoint: join(out, 'latest.safetensors'), best: join(out, 'best.safetensors') });
    const lastEval = ev.filter((e) => e.event === 'eval').pop()!;
    expect(done.valLoss).toBe(lastEval.valLoss);
    expect(done.valBpc).toBeCloseTo((done.valLoss as number) / Math.LN2, 12);
    expect(done.valPpl).toBeCloseTo(Math.exp(done.valLoss as number), 10);
    expect(existsSync(join(out, 'latest.safetensors')) && existsSync(join(out, 'best.safetensors'))).toBe(true);
  });

  it('learns: validation loss falls well below the uniform baseline', async () => {
    const r = await charlm(['train', corpus.path, ...SMALL, '--sample-every', '0', '--steps', '60', '--out', join(corpus.dir, 'run-learn'), '--lr', '0.01']);
    const ev = events(r.stdout);
    const vocab = ev[0].vocabSize as number;
    const done = ev[ev.length - 1];
    expect(done.valLoss as number).toBeLessThan(0.8 * Math.log(vocab));
  });

  it('20 steps straight and 10 + 10 resumed end on the same validation loss', async () => {
    const straight = events((await charlm(['train', corpus.path, ...SMALL, '--steps', '20', '--out', join(corpus.dir, 'run-a')])).stdout).pop()!;
    const half = join(corpus.dir, 'run-b');
    await charlm(['train', corpus.path, ...SMALL, '--steps', '10', '--out', half]);
    const resumed = await charlm(['train', corpus.path, ...SMALL, '--steps', '20', '--resume', join(half, 'latest.safetensors')]);
    const ev = events(resumed.stdout);
    expect(ev[0]).toMatchObject({ event: 'start', step: 10, resumedFrom: join(half, 'latest.safetensors') });
    const done = ev[ev.length - 1];
    expect(done.step).toBe(20);
    expect(Math.abs((done.valLoss as number) - (straight.valLoss as number))).toBeLessThan(1e-5);
  });

  it('Ctrl-C saves latest and exits 130', async () => {
    const out = join(corpus.dir, 'run-int');
    const child = spawn(process.execPath, [CHARLM, 'train', corpus.path, ...SMALL, '--steps', '100000', '--out', out], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let sent = false;
    const code = await new Promise<number | null>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (!sent && stdout.includes('"step":3,')) {
          sent = true;
          child.kill('SIGINT');
        }
      });
      child.on('close', resolve);
    });
    expect(code).toBe(130);
    const done = events(stdout).pop()!;
    expect(done).toMatchObject({ event: 'done', stopped: true, checkpoint: join(out, 'latest.safetensors') });
    expect(existsSync(join(out, 'latest.safetensors'))).toBe(true);
  });

  it('refuses to start a new run in a folder that already holds one', async () => {
    const out = join(corpus.dir, 'run-twice');
    expect((await charlm(['train', corpus.path, ...SMALL, '--steps', '2', '--out', out])).code).toBe(0);
    const r = await charlm(['train', corpus.path, ...SMALL, '--steps', '5', '--out', out]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/already holds a run.*--resume/);
  });
});
